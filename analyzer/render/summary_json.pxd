# summary_json.py compiled as a twin by setup.py: run once per conversation (and message) of every summary;
# its classes stay Python classes
import cython

from analyzer.render.c_json_lists cimport conv_text
from analyzer.render.c_packed_text cimport packed_text
from analyzer.engine._retired_c cimport PackedConv as CPackedConv
from analyzer.engine._protocol_choice_c cimport ChoiceTable as CChoiceTable

cpdef str _analysis_text(dict analysis)
cpdef str _packed_analysis_text(tuple key)
cpdef str _choice_text(object eng, str transport, long long conv_id, CChoiceTable choices=*)

cpdef str packed_json_text(object eng, CPackedConv p, CChoiceTable choices=*)
