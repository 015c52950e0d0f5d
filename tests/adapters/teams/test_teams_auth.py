"""Incoming requests are authenticated as the Bot Framework requires, over a real socket.

Tokens are signed with the stand-in's RSA key (published in its JWKS); the adapter's
``TEAMS_OPENID_METADATA_URL`` points at that stand-in, so every check below is botbuilder's real
validation — nothing is patched. A rejected request gets 401 and reaches neither the core nor
the Bot Connector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from teams_helpers import RunningBot, message
from teams_standins import KEY_ID, BotFrameworkStandIns

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOUR = 3600
Forge = Callable[[BotFrameworkStandIns], str | None]


def _now() -> int:
    return int(time.time())


def _other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(cloud: BotFrameworkStandIns, alg: str) -> str:
    """A token PyJWT refuses to make: HS256 keyed with the public key, or ``alg: none``."""
    claims = jwt.decode(cloud.channel_token(), options={"verify_signature": False})
    header = _b64(json.dumps({"alg": alg, "kid": KEY_ID, "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    if alg == "none":
        return signing_input + "."
    pem = cloud.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


# case -> (how to forge it, what botbuilder's validation says about it in our log)
BAD_TOKENS: dict[str, tuple[Forge, str]] = {
    "missing": (lambda c: None, "Request is not authorized"),
    "not a jwt": (lambda c: "not-a-jwt", "DecodeError"),
    "expired": (lambda c: c.channel_token(exp=_now() - HOUR, nbf=_now() - 2 * HOUR),
                "ExpiredSignatureError"),
    "not yet valid": (lambda c: c.channel_token(nbf=_now() + HOUR), "ImmatureSignatureError"),
    "signed by another key": (lambda c: c.channel_token(key=_other_key()),
                              "InvalidSignatureError"),
    "unknown key id": (lambda c: c.channel_token(kid="someone-elses-key"), "IndexError"),
    "no key id": (lambda c: c.channel_token(kid=None), "IndexError"),
    "wrong audience": (lambda c: c.channel_token(aud="11111111-2222-3333-4444-555555555555"),
                       "Invalid AppId"),
    "no audience": (lambda c: c.channel_token(aud=None), "'aud' claim missing"),
    "wrong issuer": (lambda c: c.channel_token(iss="https://evil.example"), "Identity missing"),
    "serviceurl of another host": (lambda c: c.channel_token(serviceurl="https://evil.example/"),
                                   "Invalid 'serviceurl' claim"),
    "no serviceurl claim": (lambda c: c.channel_token(serviceurl=None),
                            "'serviceurl' claim missing"),
    "HS256 keyed with the public key": (lambda c: _forged(c, "HS256"), "not in allowed list"),
    "alg none": (lambda c: _forged(c, "none"), "not in allowed list"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_a_bad_token_gets_401_and_never_reaches_the_core(
    teams_bot: RunningBot, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    activity = message(teams_bot.cloud, "How do I reset my VPN password?")
    forge, reason = BAD_TOKENS[case]
    token = forge(teams_bot.cloud)

    status = await teams_bot.post(activity, token=token)

    assert status == 401
    await teams_bot.idle()
    assert teams_bot.responder.questions == []
    assert teams_bot.cloud.posted(activity["conversation"]["id"]) == []
    rejections = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejections) == 1 and reason in rejections[0], rejections


async def test_wrong_scheme_gets_401(teams_bot: RunningBot) -> None:
    activity = message(teams_bot.cloud, "hello")
    assert await teams_bot.post(activity, token=teams_bot.cloud.channel_token(),
                                scheme="Basic") == 401
    assert teams_bot.responder.questions == []


async def test_a_channel_the_key_is_not_endorsed_for_gets_401(
    teams_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    activity = message(teams_bot.cloud, "hello", channel_id="slack")  # key endorses msteams
    assert await teams_bot.post(activity) == 401
    assert teams_bot.responder.questions == []
    assert "Could not validate endorsement key" in caplog.text


async def test_a_valid_token_is_accepted_and_replies_carry_the_bots_own_token(
    teams_bot: RunningBot,
) -> None:
    activity = message(teams_bot.cloud, "How do I reset my VPN password?")

    assert await teams_bot.post(activity) == 202

    reply = await teams_bot.cloud.wait_for(activity["conversation"]["id"],
                                           lambda p: p.type == "message")
    assert reply.authorized  # Bearer <the token the login stand-in issued>
    assert len(teams_bot.responder.questions) == 1
    grant = teams_bot.cloud.token_requests[-1]
    assert grant["grant_type"] == "client_credentials"
    assert grant["scope"] == "https://api.botframework.com/.default"
    assert grant["tenant"] == "botframework.com"


async def test_the_key_id_in_tokens_is_the_published_one(cloud: BotFrameworkStandIns) -> None:
    assert jwt.get_unverified_header(cloud.channel_token())["kid"] == KEY_ID


@pytest.mark.parametrize("body, content_type, expected", [
    (b"{not json", "application/json", 400),
    (b"[]", "application/json", 400),
    (b'{"text": "no type"}', "application/json", 400),
    (b"type=message", "application/x-www-form-urlencoded", 415),
])
async def test_malformed_requests_are_refused(
    teams_bot: RunningBot, body: bytes, content_type: str, expected: int
) -> None:
    headers = {"Content-Type": content_type,
               "Authorization": f"Bearer {teams_bot.cloud.channel_token()}"}
    async with teams_bot.http.post(f"{teams_bot.url}/api/messages", data=body,
                                   headers=headers) as response:
        assert response.status == expected
    assert teams_bot.responder.questions == []
