"""The endpoint judge against a real chat-completions server on 127.0.0.1: the request it
sends (temperature 0, model, messages, key), a 429 then success, a 5xx, a timeout then
success, a timeout on every attempt, a reply that is not JSON, a refused model, the disk
cache (a second run asks nothing), and the environment's base URL and key."""

import pytest

from instructvl.errors import InstructVLError
from instructvl.eval.judge.cache import MAX_CONSECUTIVE_FAILURES, CachedJudge
from instructvl.eval.judge.config import JudgeConfig
from instructvl.eval.judge.endpoint import ChatEndpoint, JudgeRequestError
from instructvl.eval.judge.protocol import judge_messages
from tests.eval.chat_server import DEFAULT_REPLY, ChatServer

FAST = dict(timeout_s=0.3, retries=2, backoff_s=0.01)


def prompt(marker: str):
    return judge_messages("A red square.", "What colour is the square?", "red", marker)


def test_request_is_chat_completions_at_temperature_zero(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with ChatServer({}) as server:
        judge = ChatEndpoint(JudgeConfig(model="judge-1", base_url=server.url, max_tokens=20, **FAST))
        assert judge.complete(prompt("red")) == DEFAULT_REPLY
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"] == {"model": "judge-1", "messages": prompt("red"), "temperature": 0, "max_tokens": 20}
    assert request["headers"]["Authorization"] == "Bearer sk-test"


def test_429_and_500_are_retried_then_answered():
    with ChatServer({"busy": ["429", "500", "6 4"]}) as server:
        judge = ChatEndpoint(JudgeConfig(model="m", base_url=server.url, **FAST))
        assert judge.complete(prompt("busy")) == "6 4"
    assert server.requests_for("busy") == 3


def test_a_timeout_is_retried_and_one_that_never_ends_fails():
    with ChatServer({"slow-once": ["sleep", "5 5"], "always-slow": ["sleep"]}, sleep_s=1.0) as server:
        judge = ChatEndpoint(JudgeConfig(model="m", base_url=server.url, **FAST))
        assert judge.complete(prompt("slow-once")) == "5 5"
        assert server.requests_for("slow-once") == 2
        with pytest.raises(JudgeRequestError, match=r"no reply after 3 attempt\(s\): .*timed out"):
            judge.complete(prompt("always-slow"))
    assert server.requests_for("always-slow") == 3


def test_a_body_that_is_not_json_fails_after_the_retries():
    with ChatServer({"garbled": ["bad json"]}) as server:
        judge = ChatEndpoint(JudgeConfig(model="m", base_url=server.url, **FAST))
        [reply] = judge.complete_all([prompt("garbled")])
    assert isinstance(reply, JudgeRequestError) and "Expecting value" in str(reply)
    assert server.requests_for("garbled") == 3


def test_a_refused_model_stops_at_once_with_the_servers_message():
    with ChatServer({"nope": ["404"]}) as server:
        judge = ChatEndpoint(JudgeConfig(model="missing", base_url=server.url, **FAST))
        with pytest.raises(InstructVLError, match="HTTP 404 Not Found: model not found"):
            judge.complete(prompt("nope"))
    assert server.requests_for("nope") == 1


def test_the_cache_answers_a_second_run_without_a_request(tmp_path):
    script = {"a1": ["8 3"], "a2": ["429", "7 7"]}
    prompts = [prompt("a1"), prompt("a2")]
    with ChatServer(script) as server:
        config = JudgeConfig(model="m", base_url=server.url, **FAST)
        first = CachedJudge(ChatEndpoint(config), tmp_path)
        assert first.complete_all(prompts) == ["8 3", "7 7"] and first.asked == 2
        sent = len(server.requests)
        again = CachedJudge(ChatEndpoint(config), tmp_path)
        assert again.complete_all(prompts) == ["8 3", "7 7"]
        assert again.asked == 0 and len(server.requests) == sent == 3
        other = CachedJudge(ChatEndpoint(config.model_copy(update={"model": "m2"})), tmp_path)
        assert other.complete_all(prompts[:1]) == ["8 3"] and other.asked == 1  # another judge: its own key


def test_failures_are_not_cached_and_a_dead_endpoint_stops_the_judging(tmp_path):
    with ChatServer({"x": ["500"]}) as server:
        judge = CachedJudge(ChatEndpoint(JudgeConfig(model="m", base_url=server.url, **FAST)), tmp_path)
        with pytest.raises(InstructVLError, match=f"{MAX_CONSECUTIVE_FAILURES} judge requests in a row failed"):
            judge.complete_all([prompt(f"x{i}") for i in range(5)])
    assert judge.asked == MAX_CONSECUTIVE_FAILURES
    assert not list(tmp_path.rglob("*.json"))


def test_base_url_and_key_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ChatServer({}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
        judge = ChatEndpoint(JudgeConfig(model="m", **FAST))
        assert judge.url == server.url + "/chat/completions"
        judge.complete(prompt("red"))
    assert "Authorization" not in server.requests[0]["headers"]
    monkeypatch.delenv("OPENAI_BASE_URL")
    with pytest.raises(InstructVLError, match="needs a key: set OPENAI_API_KEY"):
        ChatEndpoint(JudgeConfig(model="gpt-4o"))
