"""The aligned UV's lab: the layout's build from the template head, the QCE/ASE study, figures, benchmarks."""
