# core.py compiled as a twin by setup.py: what the engine does once per conversation (new
# conversation, protocol decided, packed when closed); its classes stay Python classes
import cython
