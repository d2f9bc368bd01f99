"""A Wireshark Lua dissector for one framing (dissectors.framed grammar) on one TCP port, so
Wireshark/tshark cut the same messages wirelab cuts for an inferred or stated framing.

    text = framing_lua(7005, c2s=Framing.parse("len:4:le:offset=2"), s2c=None)
    tshark -X lua_script:framed.lua -r capture.pcap -Y wlframed -T fields -e wlframed.length

Each message becomes a `wlframed` tree item with its length (`wlframed.length`) and its
direction (`wlframed.direction`); TCP reassembly joins messages split over segments."""
from __future__ import annotations

from dissectors.framed import Framing

from analyzer.errors import WirelabError

_TEMPLATE = r'''-- wirelab: a dissector for the framing wirelab found (or was told) on TCP port @PORT@
-- c2s: @C2S_TEXT@
-- s2c: @S2C_TEXT@
local p = Proto("wlframed", "wirelab framed messages")
local f_len = ProtoField.uint32("wlframed.length", "Message length")
local f_dir = ProtoField.string("wlframed.direction", "Direction")
p.fields = {f_len, f_dir}
local PORT = @PORT@
local FRAMINGS = {c2s = @C2S@, s2c = @S2C@}

local function field(tvb, pos, size, le)
  local r = tvb(pos, size)
  if size == 8 then
    if le then return r:le_uint64():tonumber() end
    return r:uint64():tonumber()
  end
  if le then return r:le_uint() end
  return r:uint()
end

-- the length of the message at pos: n > 0, or -1 (need more bytes), or nil (not this framing)
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
    if f.incl then
      if n < f.header then return nil end
      return n
    end
    return f.header + n
  end
  -- lenjson: a header length, a JSON header, a body of header[key] bytes
  if avail < f.size then return -1 end
  local h = field(tvb, pos, f.size, f.le)
  if avail < f.size + h then return -1 end
  local json = tvb:raw(pos + f.size, h)
  local body = string.match(json, '"' .. f.key .. '"%s*:%s*(%d+)')
  return f.size + h + (tonumber(body) or 0)
end

function p.dissector(tvb, pinfo, tree)
  local dir = "s2c"
  if pinfo.dst_port == PORT then dir = "c2s" end
  local f = FRAMINGS[dir]
  if f == false then return 0 end
  local pos, total = 0, tvb:len()
  while pos < total do
    local n = msg_len(f, tvb, pos, total - pos)
    if n == nil then return pos end
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

DissectorTable.get("tcp.port"):add(PORT, p)
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
        key = "".join(c for c in f.key if c.isalnum() or c in "_-")
        return f'{{kind = "lenjson", size = {f.size}, le = {le}, key = "{key}"}}'
    incl = "true" if f.includes_header else "false"
    return (f'{{kind = "len", size = {f.size}, le = {le}, offset = {f.offset}, '
            f'header = {f.header}, incl = {incl}}}')


def framing_lua(port: int, c2s: Framing | None, s2c: Framing | None) -> str:
    """The dissector's source text for `port` (the server's port: c2s is what it receives)."""
    if not 1 <= int(port) <= 65535:
        raise WirelabError(f"bad port {port}: expected 1-65535")
    if c2s is None and s2c is None:
        raise WirelabError("no framing to export: neither direction has one")
    text = _TEMPLATE
    for name, value in (("@PORT@", str(int(port))), ("@C2S@", framing_table(c2s)),
                        ("@S2C@", framing_table(s2c)),
                        ("@C2S_TEXT@", c2s.grammar() if c2s else "not cut"),
                        ("@S2C_TEXT@", s2c.grammar() if s2c else "not cut")):
        text = text.replace(name, value)
    return text
