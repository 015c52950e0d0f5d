"""The console's doors, over a real socket (aiohttp's test server on loopback): nothing under
/admin/ answers without auth, the bearer token, the login form and its session cookie, logout
ending the session, CSRF on every POST, the SSO header, and the settings' start-up checks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from console_harness import TOKEN, console_core

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.app.admin import admin_problems, mount_admin
from bot.app.admin.auth import SESSION_COOKIE, AdminAuth
from bot.app.serve import build_web_app
from bot.settings import Settings, SettingsError

# every path of the console, GET and POST (a page added later goes here too)
GETS = ["/admin/", "/admin/overview", "/admin/overview?days=30", "/admin/static/admin.css",
        "/admin/static/admin.js", "/admin/conversations", "/admin/conversations?route=local",
        "/admin/documents", "/admin/documents/reindex.json", "/admin/costs",
        "/admin/costs?by=model", "/admin/costs/costs.csv", "/admin/gaps", "/admin/gaps?days=30",
        "/admin/approved", "/admin/approved?status=all"]
POSTS = ["/admin/logout", "/admin/documents/reindex", "/admin/gaps/promote", "/admin/approved/add",
         "/admin/approved/edit", "/admin/approved/withdraw"]
BEARER = {"Authorization": f"Bearer {TOKEN}"}
on_loop = pytest.mark.asyncio(loop_scope="function")  # the client fixture's loop


async def client_for(tmp_path: Path, **settings: object) -> TestClient:
    app, core = web.Application(), console_core(tmp_path, **settings)
    mount_admin(app, core)
    app.on_cleanup.append(lambda _app: core.aclose())  # closed with the server
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    return client


@pytest_asyncio.fixture(loop_scope="function")
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    client = await client_for(tmp_path)
    yield client
    await client.close()


async def login(client: TestClient, token: str = TOKEN) -> str:
    """The session cookie's value after logging in through the form."""
    form = await client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text())
    assert csrf is not None
    nonce = form.cookies["firstline_admin_login"].value
    done = await client.post("/admin/login", data={"csrf": csrf[1], "token": token},
                             cookies={"firstline_admin_login": nonce}, allow_redirects=False)
    assert done.status == 302, await done.text()
    return done.cookies[SESSION_COOKIE].value


async def page_csrf(client: TestClient, cookie: str) -> str:
    page = await client.get("/admin/overview", cookies={SESSION_COOKIE: cookie})
    found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert found is not None
    return found[1]


@on_loop
async def test_every_path_refuses_without_auth(client: TestClient) -> None:
    for path in GETS:
        plain = await client.get(path, allow_redirects=False)
        assert plain.status == 401, path
        assert plain.headers["WWW-Authenticate"].startswith("Bearer")
        browser = await client.get(path, headers={"Accept": "text/html"}, allow_redirects=False)
        assert browser.status == 302, path
        assert browser.headers["Location"].startswith("/admin/login?next=/admin/")
        forged = await client.get(path, cookies={SESSION_COOKIE: "abc.9999999999.00"},
                                  allow_redirects=False)
        assert forged.status == 401, path
    for path in POSTS:
        assert (await client.post(path, data={"csrf": "x"}, allow_redirects=False)).status == 401
    assert (await client.get("/admin", allow_redirects=False)).status == 401
    assert (await client.get("/admin/no-such-page", allow_redirects=False)).status == 401


@on_loop
async def test_the_bearer_token_opens_every_path_and_a_wrong_one_none(client: TestClient) -> None:
    for path in GETS:
        response = await client.get(path, headers=BEARER)
        assert response.status == 200, path
    wrong = {"Authorization": f"Bearer {TOKEN}x"}
    assert (await client.get("/admin/overview", headers=wrong)).status == 401
    cookie = await login(client)  # a wrong bearer token is refused even beside a good session
    refused = await client.get("/admin/overview", headers=wrong, cookies={SESSION_COOKIE: cookie})
    assert refused.status == 401


@on_loop
async def test_login_sets_a_signed_httponly_strict_cookie(client: TestClient) -> None:
    form = await client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text())
    assert csrf is not None
    nonce = {"firstline_admin_login": form.cookies["firstline_admin_login"].value}
    bad = await client.post("/admin/login", data={"csrf": csrf[1], "token": "wrong-token-123456"},
                            cookies=nonce, allow_redirects=False)
    assert bad.status == 401 and SESSION_COOKIE not in bad.cookies
    assert "That token is not right." in await bad.text()
    good = await client.post("/admin/login", allow_redirects=False, cookies=nonce,
                             data={"csrf": csrf[1], "token": TOKEN, "next": "/admin/overview"})
    assert good.status == 302 and good.headers["Location"] == "/admin/overview"
    header = good.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/admin/" in header
    assert "Max-Age=43200" in header and "Secure" not in header
    cookie = good.cookies[SESSION_COOKIE].value
    assert (await client.get("/admin/overview", cookies={SESSION_COOKIE: cookie})).status == 200
    session, expiry, signature = cookie.split(".")
    longer = f"{session}.{int(expiry) + 3600}.{signature}"
    assert (await client.get("/admin/overview", cookies={SESSION_COOKIE: longer})).status == 401


@on_loop
async def test_a_login_post_without_its_csrf_token_fails(client: TestClient) -> None:
    response = await client.post("/admin/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 403
    form = await client.get("/admin/login")
    nonce = {"firstline_admin_login": form.cookies["firstline_admin_login"].value}
    forged = await client.post("/admin/login", data={"token": TOKEN, "csrf": "0" * 64},
                               cookies=nonce, allow_redirects=False)
    assert forged.status == 403


@on_loop
async def test_logout_ends_the_session_and_needs_the_csrf_token(client: TestClient) -> None:
    cookie = await login(client)
    jar = {SESSION_COOKIE: cookie}
    forged = await client.post("/admin/logout", cookies=jar, allow_redirects=False)
    assert forged.status == 403
    assert (await client.get("/admin/overview", cookies=jar)).status == 200  # still logged in
    other = await login(client)
    wrong = await client.post("/admin/logout", cookies=jar, allow_redirects=False,
                              data={"csrf": await page_csrf(client, other)})
    assert wrong.status == 403  # another session's token is no good
    out = await client.post("/admin/logout", cookies=jar, allow_redirects=False,
                            data={"csrf": await page_csrf(client, cookie)})
    assert out.status == 302 and out.headers["Location"] == "/admin/login"
    assert (await client.get("/admin/overview", cookies=jar,
                             allow_redirects=False)).status == 401
    assert (await client.get("/admin/overview", cookies={SESSION_COOKIE: other})).status == 200


@on_loop
async def test_the_cookie_is_secure_behind_a_trusted_https_proxy(tmp_path: Path) -> None:
    for trust, secure in ((False, False), (True, True)):
        client = await client_for(tmp_path / str(trust), admin_trust_proxy=trust)
        try:
            form = await client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
            assert ("Secure" in form.headers["Set-Cookie"]) is secure
        finally:
            await client.close()


def test_sessions_expire_and_unknown_ids_are_refused(tmp_path: Path) -> None:
    now = [1_000_000.0]
    settings = Settings.load({"data_dir": tmp_path, "admin_token": TOKEN,
                              "admin_session_hours": 1}, environ={}, config_file=tmp_path / "x")
    auth = AdminAuth(settings, clock=lambda: now[0])
    cookie = auth.open_session()
    assert auth.verify(cookie) == cookie.split(".")[0]
    other = AdminAuth(settings, clock=lambda: now[0])  # same key, but not its session
    assert other.verify(cookie) is None
    now[0] += 3601
    assert auth.verify(cookie) is None


@on_loop
async def test_the_sso_header_admits_allowed_users_and_groups(tmp_path: Path) -> None:
    client = await client_for(tmp_path, admin_token="", admin_sso_header="X-Forwarded-User",
                              admin_sso_groups_header="X-Forwarded-Groups",
                              admin_users=("alice@example.com", "group:it-admins"))
    try:
        alice = {"X-Forwarded-User": "alice@example.com"}
        page = await client.get("/admin/overview", headers=alice)
        assert page.status == 200 and "alice@example.com" in await page.text()
        bob = {"X-Forwarded-User": "bob@example.com"}
        assert (await client.get("/admin/overview", headers=bob)).status == 401
        bob_admin = {**bob, "X-Forwarded-Groups": "staff, it-admins"}
        assert (await client.get("/admin/overview", headers=bob_admin)).status == 200
        assert (await client.get("/admin/overview", headers=BEARER)).status == 401  # no token
        forged = await client.post("/admin/logout", headers=alice, allow_redirects=False)
        assert forged.status == 403
        login_page = await client.get("/admin/login")
        assert "single sign-on" in await login_page.text()
    finally:
        await client.close()


def test_settings_problems_are_one_line_each(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as short:
        Settings.load({}, environ={"FIRSTLINE_ADMIN_TOKEN": "short"},
                      config_file=tmp_path / "none.toml")
    assert list(short.value.problems) == [
        "FIRSTLINE_ADMIN_TOKEN: expected empty or at least 16 characters "
        "(e.g. openssl rand -hex 24), got a secret"]
    sso = Settings.load({}, environ={"FIRSTLINE_ADMIN_SSO_HEADER": "X-Forwarded-User"},
                        config_file=tmp_path / "none.toml")
    assert admin_problems(sso) == [
        "FIRSTLINE_ADMIN_SSO_HEADER: set, but FIRSTLINE_ADMIN_USERS is empty; name the users "
        "(or group:NAME) who may use the admin console"]
    assert admin_problems(Settings.load({}, environ={}, config_file=tmp_path / "none.toml")) == []


@on_loop
async def test_security_headers_and_no_open_redirect(client: TestClient) -> None:
    page = await client.get("/admin/overview", headers=BEARER)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    form = await client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text())
    assert csrf is not None
    nonce = {"firstline_admin_login": form.cookies["firstline_admin_login"].value}
    for target in ("//evil.example/x", "https://evil.example/", "/admin/../x//y"):
        done = await client.post("/admin/login", cookies=nonce, allow_redirects=False,
                                 data={"csrf": csrf[1], "token": TOKEN, "next": target})
        assert done.headers["Location"] == "/admin/", target


@on_loop
async def test_serve_mounts_the_console_only_when_configured(tmp_path: Path) -> None:
    for token, status in (("", 404), (TOKEN, 401)):
        where = tmp_path / (token or "off")
        core = console_core(where, admin_token=token)
        none = where / "none.toml"
        app, _ = build_web_app(core, core.settings,
                               slack=SlackSettings.load({}, environ={}, config_file=none),
                               teams=TeamsSettings.load({}, environ={}, config_file=none))
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            assert (await client.get("/admin/overview")).status == status
            assert (await client.get("/healthz")).status == 200
        await core.aclose()


@on_loop
async def test_scripts_post_with_the_bearer_token_and_sso_forms_with_their_token(
        tmp_path: Path) -> None:
    core = console_core(tmp_path, admin_sso_header="X-Forwarded-User", admin_users=("alice",))
    app = web.Application()
    mount_admin(app, core)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        started = await client.post("/admin/documents/reindex", headers=BEARER,
                                    allow_redirects=False)
        assert started.headers["Location"] == "/admin/documents?reindex=started"
        await core.commands.wait_reindex()
        state = await (await client.get("/admin/documents/reindex.json", headers=BEARER)).json()
        assert not state["running"] and "3 added" in state["finished"]
        alice = {"X-Forwarded-User": "alice"}
        page = await client.get("/admin/documents", headers=alice)
        token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert token is not None
        again = await client.post("/admin/documents/reindex", headers=alice,
                                  data={"csrf": token[1]}, allow_redirects=False)
        assert again.headers["Location"] == "/admin/documents?reindex=started"
        await core.commands.wait_reindex()
    await core.aclose()
