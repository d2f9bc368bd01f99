# conv_table.py compiled as a twin by setup.py: the engine appends and packs through it once
# per conversation, the summary reads every entry; its classes stay Python classes
import cython
