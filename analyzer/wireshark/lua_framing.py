"""A Wireshark Lua dissector for stated or inferred framings (dissectors.framed grammar), one
per direction, on one or more TCP ports, so Wireshark/tshark cut the same messages wirelab
cuts for an inferred or stated framing.

    text = framing_lua(7005, c2s=Framing.parse("len:4:le:offset=2"), s2c=None)
    text = framings_lua({7005: (c2s, s2c), 7006: (f, f)})
    tshark -X lua_script:framed.lua -r capture.pcap -Y wlframed -T fields -e wlframed.length

Each message becomes a `wlframed` tree item with its length (`wlframed.length`) and its
direction (`wlframed.direction`: c2s when the packet goes to the port the dissector was
registered for, the server's port); TCP reassembly joins messages split over segments."""
from __future__ import annotations

from dissectors.base import MAX_FRAME, MAX_HEADER
from dissectors.framed import Framing

from analyzer.errors import WirelabError

_TEMPLATE = r'''-- wirelab: a dissector for the framings wirelab found (or was told) on TCP ports
@COMMENTS@
local p = Proto("wlframed", "wirelab framed messages")
local f_len = ProtoField.uint32("wlframed.length", "Message length")
local f_dir = ProtoField.string("wlframed.direction", "Direction")
local f_bad = ProtoField.string("wlframed.malformed", "Malformed")
p.fields = {f_len, f_dir, f_bad}
local MAX_FRAME, MAX_HEADER = @MAX_FRAME@, @MAX_HEADER@
-- server port -> the framing of each direction (false: that direction is not cut)
local PORTS = {
@PORTS@
}

local function field(tvb, pos, size, le)
  local r = tvb(pos, size)
  if size == 8 then
    if le then return r:le_uint64():tonumber() end
    return r:uint64():tonumber()
  end
  if le then return r:le_uint() end
  return r:uint()
end

-- the length of the message at pos: n > 0, or -1 (need more bytes), or nil and why the
-- bytes cannot be this framing (as wirelab says it)
local function msg_len(f, tvb, pos, avail)
  if f.kind == "fixed" then return f.record end
  if f.kind == "delim" then
    local s = tvb:raw(pos, avail)
    local i, j = string.find(s, f.delim, 1, true)
    if i == nil then return -1 end
    return j
  end
  if f.kind == "len" then
    if avail < f.header then return -1 end
    local n = field(tvb, pos + f.offset, f.size, f.le)
    local whole = n
    if not f.incl then whole = f.header + n end
    if whole < f.header then
      return nil, "length " .. n .. " is shorter than the " .. f.header .. "-byte header"
    end
    if whole > MAX_FRAME then return nil, "frame too large: " .. n .. " bytes" end
    return whole
  end
  -- lenjson: a header length, a JSON header, a body of header[key] bytes
  if avail < f.size then return -1 end
  local h = field(tvb, pos, f.size, f.le)
  if h < 2 or h > MAX_HEADER then return nil, "bad header length " .. h end
  if avail < f.size + h then return -1 end
  local json = tvb:raw(pos + f.size, h)
  local body = string.match(json, '"' .. f.key .. '"%s*:%s*(%d+)')
  body = tonumber(body) or 0
  if body > MAX_FRAME then return nil, "body too large: " .. body .. " bytes" end
  return f.size + h + body
end

-- the framing of this packet's direction and the direction's name (nil: not our port)
local function framing_for(pinfo)
  local port = pinfo.match_uint
  if PORTS[port] == nil then
    if PORTS[pinfo.dst_port] ~= nil then port = pinfo.dst_port else port = pinfo.src_port end
  end
  local framings = PORTS[port]
  if framings == nil then return nil, nil end
  if pinfo.dst_port == port then return framings.c2s, "c2s" end
  return framings.s2c, "s2c"
end

function p.dissector(tvb, pinfo, tree)
  local f, dir = framing_for(pinfo)
  if not f then return 0 end
  local pos, total = 0, tvb:len()
  while pos < total do
    local n, why = msg_len(f, tvb, pos, total - pos)
    if n == nil then     -- not this framing: the rest of the segment is marked, not cut
      local t = tree:add(p, tvb(pos), "wirelab malformed: " .. why .. " (" .. dir .. ")")
      t:add(f_bad, tvb(pos), why)
      t:add(f_dir, tvb(pos), dir)
      pinfo.cols.protocol = "FRAMED"
      return total
    end
    if n < 0 or pos + n > total then
      pinfo.desegment_offset = pos
      if n < 0 then
        pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      else
        pinfo.desegment_len = pos + n - total
      end
      return total
    end
    local t = tree:add(p, tvb(pos, n), "wirelab message, " .. n .. " bytes (" .. dir .. ")")
    t:add(f_len, tvb(pos, n), n)
    t:add(f_dir, tvb(pos, n), dir)
    pos = pos + n
  end
  pinfo.cols.protocol = "FRAMED"
  return pos
end

for port, _ in pairs(PORTS) do DissectorTable.get("tcp.port"):add(port, p) end
'''


def _lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{b:03d}" for b in data) + '"'


def framing_table(f: Framing | None) -> str:
    """One framing as a Lua table literal (false: this direction is not cut)."""
    if f is None:
        return "false"
    le = "true" if f.endian == "le" else "false"
    if f.kind == "fixed":
        return f'{{kind = "fixed", record = {f.record}}}'
    if f.kind == "delim":
        return f'{{kind = "delim", delim = {_lua_string(f.delim)}}}'
    if f.kind == "lenjson":
        # the key goes into a Lua pattern: letters, digits and "_" as they are, "-" escaped
        key = "".join(c for c in f.key if c.isalnum() or c in "_-").replace("-", "%-")
        return f'{{kind = "lenjson", size = {f.size}, le = {le}, key = "{key}"}}'
    incl = "true" if f.includes_header else "false"
    return (f'{{kind = "len", size = {f.size}, le = {le}, offset = {f.offset}, '
            f'header = {f.header}, incl = {incl}}}')


def framing_lua(port: int, c2s: Framing | None, s2c: Framing | None) -> str:
    """The dissector's source text for `port` (the server's port: c2s is what it receives)."""
    return framings_lua({port: (c2s, s2c)})


def framings_lua(ports: dict[int, tuple[Framing | None, Framing | None]]) -> str:
    """The dissector's source text for several server ports, each with its (c2s, s2c)."""
    if not ports:
        raise WirelabError("no framing to export: no port given")
    rows, comments = [], []
    for port, (c2s, s2c) in sorted(ports.items()):
        if not 1 <= int(port) <= 65535:
            raise WirelabError(f"bad port {port}: expected 1-65535")
        if c2s is None and s2c is None:
            raise WirelabError(f"no framing to export for port {port}: neither direction has one")
        rows.append(f"  [{int(port)}] = {{c2s = {framing_table(c2s)}, "
                    f"s2c = {framing_table(s2c)}}},")
        comments.append(f"-- port {int(port)}: c2s {c2s.grammar() if c2s else 'not cut'}; "
                        f"s2c {s2c.grammar() if s2c else 'not cut'}")
    text = _TEMPLATE.replace("@MAX_FRAME@", str(MAX_FRAME)).replace("@MAX_HEADER@", str(MAX_HEADER))
    return text.replace("@COMMENTS@", "\n".join(comments)).replace("@PORTS@", "\n".join(rows))
