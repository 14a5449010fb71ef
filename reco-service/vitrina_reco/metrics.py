"""Prometheus metrics of one app: requests and latency by endpoint and source, the fallback rate.

Each app gets its own registry, so tests can build many apps in one process.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from vitrina_reco.schemas import PERSONAL

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RECOMMENDATIONS = "/recommendations/{user_id}"


class RecoMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "reco_requests",
            "Requests answered, by endpoint, source and status code.",
            ["endpoint", "source", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "reco_request_duration_seconds",
            "Time to answer, by endpoint and source.",
            ["endpoint", "source"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._recommended = 0
        self._fallbacks = 0
        Gauge(
            "reco_fallback_ratio",
            "Share of successful recommendation requests answered by a fallback (unknown users).",
            registry=self.registry,
        ).set_function(self.fallback_ratio)

    def fallback_ratio(self) -> float:
        return self._fallbacks / self._recommended if self._recommended else 0.0

    def observe(self, endpoint: str, source: str, status: int, seconds: float) -> None:
        key = (endpoint, source, status)
        children = self._children.get(key)
        if children is None:  # `labels()` locks and looks up; the few combinations are kept
            children = (
                self.requests.labels(endpoint, source, str(status)),
                self.latency.labels(endpoint, source),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if endpoint == RECOMMENDATIONS and status == 200:
            self._recommended += 1
            self._fallbacks += source != PERSONAL
