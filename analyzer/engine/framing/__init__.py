"""Inferring the framing of a TCP protocol wirelab has no codec for, from the bytes of each
direction (analyzer.engine.framing.infer), with the candidate framings
(analyzer.engine.framing.hypotheses) and how well each explains a stream
(analyzer.engine.framing.scoring).  The framings and the codec that cuts them are
dissectors.framed."""
from analyzer.engine.framing.infer import (THRESHOLD, DirectionResult, Sample, infer_direction,
                                           infer_pair)

__all__ = ["THRESHOLD", "DirectionResult", "Sample", "infer_direction", "infer_pair"]
