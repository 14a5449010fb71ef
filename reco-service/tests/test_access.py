"""The access log: one JSON line per request, with what answered it."""

import logging

import orjson


def test_each_request_is_logged_as_one_json_line(serve, publish, caplog):
    publish("v1")
    api = serve(RECO_ACCESS_LOG=True)
    with caplog.at_level(logging.INFO, logger="vitrina_reco.access"):
        api.get("/recommendations/stranger", params={"k": 2, "exclude": "c"})
    records = [
        orjson.loads(r.getMessage()) for r in caplog.records if r.name == "vitrina_reco.access"
    ]
    assert len(records) == 1
    record = records[0]
    assert record.pop("ms") > 0
    assert record == {
        "method": "GET",
        "path": "/recommendations/stranger",
        "query": "k=2&exclude=c",
        "status": 200,
        "source": "popular",
        "client": "127.0.0.1",
    }


def test_access_log_can_be_turned_off(api, caplog):
    with caplog.at_level(logging.INFO, logger="vitrina_reco.access"):
        api.get("/health")
    assert not [r for r in caplog.records if r.name == "vitrina_reco.access"]
