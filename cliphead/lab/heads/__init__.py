"""The neural head model's lab: training scans from ICT-FaceKit, training, fitting study, figures, benchmarks."""
