"""The demo stack asks the same model store the trainer publishes to, prefix included."""

from stack import Stack, StackConfig

from vitrina_shared.model_store import ModelStore


def publish_under(redis_url: str, prefix: str) -> None:
    with ModelStore.from_url(redis_url, prefix) as store:
        writer = store.begin()
        writer.write_meta({})
        store.activate(writer.version)


def test_a_model_published_under_redis_prefix_is_found(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_PREFIX", "shop2")
    stack = Stack(StackConfig(redis_url=redis_url, quiet=True))
    assert not stack.model_published()
    publish_under(redis_url, "shop2")
    assert stack.model_published()


def test_a_model_under_another_prefix_is_not_this_stacks(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_PREFIX", "shop2")
    publish_under(redis_url, "vitrina")
    assert not Stack(StackConfig(redis_url=redis_url, quiet=True)).model_published()
