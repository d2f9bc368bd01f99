# protocol_choice.py compiled as a twin by setup.py: the engine asks it once per conversation
# (which codec, why); its classes stay Python classes
import cython
