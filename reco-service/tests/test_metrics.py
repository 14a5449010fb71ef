"""`/metrics`: request counts and latency by endpoint and source, and the fallback rate."""

from prometheus_client.parser import text_string_to_metric_families


def samples(api) -> dict[tuple[str, tuple], float]:
    text = api.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_counts_latency_and_fallback_ratio(api, publish):
    publish("v1")
    api.get("/recommendations/u1?k=2")
    api.get("/recommendations/u2?k=2")
    api.get("/recommendations/stranger?k=2")
    api.get("/recommendations/u1?k=0")
    api.get("/no/such/page")
    found = samples(api)
    rec = "/recommendations/{user_id}"
    requests = "reco_requests_total"
    assert found[(requests, (("endpoint", rec), ("source", "personal"), ("status", "200")))] == 2
    assert found[(requests, (("endpoint", rec), ("source", "popular"), ("status", "200")))] == 1
    assert found[(requests, (("endpoint", rec), ("source", "-"), ("status", "422")))] == 1
    assert found[(requests, (("endpoint", "unmatched"), ("source", "-"), ("status", "404")))] == 1
    latency = "reco_request_duration_seconds_count"
    assert found[(latency, (("endpoint", rec), ("source", "personal")))] == 2
    assert found[("reco_fallback_ratio", ())] == 1 / 3


def test_fallback_ratio_is_zero_before_any_request(api):
    assert samples(api)[("reco_fallback_ratio", ())] == 0.0


def test_metrics_content_type_is_prometheus_text(api):
    assert api.get("/metrics").headers["content-type"].startswith("text/plain; version=")
