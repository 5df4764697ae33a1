"""The one result type of every ``cliphead bench …`` command: timings against a baseline measured in the same run.

A benchmark measures what it is about and, in the same process and run, a baseline that puts it in
proportion (the dense grid for the coarse-to-fine extraction, unguided sampling for guided sampling, …),
so its ratios hold on any machine. Its summary is a table of seconds and ratios; its payload, the JSON
line the CLI prints last, holds the same figures plus whatever else the benchmark counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Timing:
    """One measured time: what was timed, its median seconds, and a note shown beside it (counts, sizes)."""

    label: str
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class Target:
    """A speed goal: the timing of ``label`` must take at most ``seconds``."""

    label: str
    seconds: float


@dataclass
class BenchmarkResult:
    """Timings against a same-run baseline, the goals they are held to, and any other figures (``extra``)."""

    title: str
    baseline: Timing
    timings: list[Timing]
    targets: list[Target] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def timing(self, label: str) -> Timing:
        """The timing named ``label`` (the baseline included)."""
        for timing in [self.baseline, *self.timings]:
            if timing.label == label:
                return timing
        raise KeyError(f"no timing {label!r} in {self.title!r}")

    def ratio(self, label: str) -> float:
        """Seconds of ``label`` over the baseline's."""
        return self.timing(label).seconds / self.baseline.seconds

    def met(self, target: Target) -> bool:
        return self.timing(target.label).seconds <= target.seconds

    def summary(self) -> str:
        """The human-readable table: the baseline, each timing with its ratio, then each goal, met or not."""
        width = max(len(t.label) for t in [self.baseline, *self.timings]) + 2
        lines = [f"{self.title}:", _row(self.baseline, width, "(baseline)")]
        lines += [_row(t, width, f"({self.ratio(t.label):.2f}× baseline)") for t in self.timings]
        lines += [
            f"  target: {t.label} ≤ {t.seconds:g} s — {'met' if self.met(t) else 'NOT met'}" for t in self.targets
        ]
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        """The figures as one JSON-ready record."""
        return {
            "title": self.title,
            "baseline": {"label": self.baseline.label, "seconds": round(self.baseline.seconds, 4)},
            "timings": [
                {"label": t.label, "seconds": round(t.seconds, 4), "over_baseline": round(self.ratio(t.label), 3)}
                for t in self.timings
            ],
            "targets": [{"label": t.label, "target_seconds": t.seconds, "met": self.met(t)} for t in self.targets],
            **self.extra,
        }


def _row(timing: Timing, width: int, ratio: str) -> str:
    note = f"  {timing.note}" if timing.note else ""
    return f"  {timing.label:<{width}}{timing.seconds:9.4f} s  {ratio}{note}"
