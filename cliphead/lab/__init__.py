"""The lab: everything that makes, trains and measures the runtime's parts, never needed at inference.

``world`` is the synthetic appearance world (textured ICT-FaceKit heads, painter, captions, renders);
``heads``, ``uv``, ``clip``, ``mapping`` and ``texture`` hold each part's data, training recipe
(``recipe.py``, with named presets), evaluation, figures and benchmarks; ``baselines`` and
``comparison`` make Table 1; ``reproduce`` runs the notebooks. The runtime (the rest of ``cliphead``)
never imports this package.
"""
