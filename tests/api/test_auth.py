"""Login, sessions with CSRF, API tokens and failed-login throttling."""
from __future__ import annotations

from datetime import timedelta

from app.auth import throttle
from app.core import clock


def test_login_answers_the_user_and_sets_session_and_csrf_cookies(client, make_user, password):
    user = make_user("township_doctor", username="dr_li")
    response = client.post("/api/v1/auth/login", json={"username": "dr_li", "password": password})
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == user.id and body["roles"] == ["township_doctor"]
    assert body["org"] == {"code": "C01T01", "name": "石门镇卫生院", "level": "township"}
    assert client.get_cookie("ygt_session") is not None
    assert client.get_cookie("ygt_csrf").value == body["csrf_token"]


def test_the_session_cookie_is_http_only_and_the_csrf_cookie_is_readable_by_scripts(client, make_user, password):
    make_user(username="dr_wang")
    response = client.post("/api/v1/auth/login", json={"username": "dr_wang", "password": password})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "HttpOnly" in cookies["ygt_session"]
    assert "HttpOnly" not in cookies["ygt_csrf"]


def test_me_describes_the_signed_in_user(client, make_user, login):
    make_user("village_doctor", username="dr_zhao")
    login("dr_zhao")
    body = client.get("/api/v1/auth/me").get_json()
    assert body["username"] == "dr_zhao"
    assert body["roles"] == ["village_doctor"]
    assert body["org"]["code"] == "C01T01V01" and body["org"]["level"] == "village"


def test_a_wrong_password_is_invalid_credentials(client, make_user):
    make_user(username="dr_sun")
    response = client.post("/api/v1/auth/login", json={"username": "dr_sun", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client, make_user):
    make_user(username="dr_sun")
    wrong = client.post("/api/v1/auth/login", json={"username": "dr_sun", "password": "wrong-password"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password"})
    assert (unknown.status_code, unknown.get_json()) == (wrong.status_code, wrong.get_json())


def test_without_a_session_me_is_unauthorized(client, org_tree):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, make_user, password):
    make_user(username="dr_qian")
    for _ in range(throttle.MAX_FAILURES):
        client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": "wrong-password"})
    response = client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": password})
    assert response.status_code == 429
    assert response.get_json()["code"] == "login_throttled"


def test_the_lock_ends_after_fifteen_minutes(client, make_user, password):
    make_user(username="dr_qian")
    for _ in range(throttle.MAX_FAILURES):
        client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": "wrong-password"})
    clock.advance(throttle.LOCK_FOR + timedelta(seconds=1))
    response = client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": password})
    assert response.status_code == 200


def test_unknown_usernames_are_throttled_like_real_ones(client, org_tree):
    for _ in range(throttle.MAX_FAILURES):
        client.post("/api/v1/auth/login", json={"username": "ghost", "password": "wrong-password"})
    response = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "wrong-password"})
    assert response.status_code == 429


def test_a_successful_login_resets_the_failure_count(client, make_user, password):
    make_user(username="dr_qian")
    for _ in range(throttle.MAX_FAILURES - 1):
        client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": "wrong-password"})
    assert client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": password}).status_code == 200
    response = client.post("/api/v1/auth/login", json={"username": "dr_qian", "password": "wrong-password"})
    assert response.status_code == 401


def test_an_inactive_user_cannot_log_in(app, client, make_user, password):
    user = make_user(username="dr_gone")
    _deactivate(app, user.id)
    response = client.post("/api/v1/auth/login", json={"username": "dr_gone", "password": password})
    assert response.status_code == 401


def test_a_cookie_authenticated_post_without_the_csrf_header_is_refused(client, make_user, login):
    make_user(username="dr_zhou")
    login("dr_zhou")
    response = client.post("/api/v1/auth/tokens", json={"name": "laptop"})
    assert response.status_code == 403
    assert response.get_json()["code"] == "csrf_failed"


def test_a_cookie_authenticated_post_with_a_wrong_csrf_header_is_refused(client, make_user, login):
    make_user(username="dr_zhou")
    login("dr_zhou")
    response = client.post("/api/v1/auth/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": "forged"})
    assert response.status_code == 403


def test_a_cookie_authenticated_post_with_the_csrf_header_is_accepted(client, make_user, login):
    make_user(username="dr_zhou")
    csrf = login("dr_zhou")
    response = client.post("/api/v1/auth/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201


def test_logout_ends_the_session_immediately(client, make_user, login):
    make_user(username="dr_wu")
    csrf = login("dr_wu")
    stolen = client.get_cookie("ygt_session").value
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.set_cookie("ygt_session", stolen)              # replaying the old cookie does not help
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_deactivated_user_loses_their_session_at_once(app, client, make_user, login):
    user = make_user(username="dr_zheng")
    login("dr_zheng")
    _deactivate(app, user.id)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_token_is_shown_once_and_authenticates_bearer_calls(app, client, make_user, login):
    make_user(username="his_bot")
    csrf = login("his_bot")
    created = client.post("/api/v1/auth/tokens", json={"name": "HIS"}, headers={"X-CSRF-Token": csrf}).get_json()
    machine = app.test_client()
    response = machine.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert response.status_code == 200 and response.get_json()["username"] == "his_bot"
    listed = client.get("/api/v1/auth/tokens").get_json()
    assert [t["name"] for t in listed] == ["HIS"] and "token" not in listed[0]


def test_bearer_calls_need_no_csrf_header(client_as):
    machine = client_as("integration")
    assert machine.post("/api/v1/auth/tokens", json={"name": "second"}).status_code == 201


def test_a_revoked_token_stops_working_on_the_next_request(client_as):
    machine = client_as("county_admin")
    token_id = machine.get("/api/v1/auth/tokens").get_json()[0]["id"]
    assert machine.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 204
    response = machine.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_token"


def test_a_token_resolved_a_moment_ago_costs_no_query_until_something_changes(app, client_as):
    """Issue 23.2: the token → principal lookup is cached per worker for a moment; a revocation, deactivation or
    role change written through this worker drops the cache at once."""
    from sqlalchemy import event, update

    from app.auth.models import User, UserRole
    from app.core import db
    from app.core.db import unit_of_work
    machine = client_as("county_admin")
    assert machine.get("/api/v1/auth/me").status_code == 200
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_a):
        seen.append(statement)
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", listen)
    try:
        assert machine.get("/api/v1/auth/me").json["username"] == machine.user.username
        assert not [s for s in seen if "api_tokens" in s], seen
        with app.app_context(), unit_of_work() as s:       # a role change through the ORM (an admin's edit)
            s.add(UserRole(user_id=machine.user.id, role="county_specialist"))
            s.get(type(machine.user), machine.user.id).display_name = "changed"
        seen.clear()
        me = machine.get("/api/v1/auth/me").json
        assert [s for s in seen if "api_tokens" in s] and "county_specialist" in me["roles"]
    finally:
        with app.app_context():
            event.remove(db.engine(), "before_cursor_execute", listen)
    with app.app_context(), unit_of_work() as s:       # a bulk UPDATE through the session (no ORM object changes)
        s.execute(update(User).where(User.id == machine.user.id).values(display_name="renamed"))
    assert machine.get("/api/v1/auth/me").json["display_name"] == "renamed"
    _deactivate(app, machine.user.id)
    assert machine.get("/api/v1/auth/me").status_code == 401


def test_a_token_revoked_by_another_worker_stops_within_the_cache_time(app, client_as, monkeypatch):
    """Another worker's revocation is not seen by this worker's cache: it holds for at most TOKEN_CACHE_S."""
    import time

    from sqlalchemy import update

    from app.auth import services
    from app.auth.models import ApiToken
    from app.core import clock, db
    monkeypatch.setattr(services, "TOKEN_CACHE_S", 0.3)
    machine = client_as("county_admin")
    assert machine.get("/api/v1/auth/me").status_code == 200
    with app.app_context(), db.engine().begin() as conn:   # as another process would: this worker's session never sees it
        conn.execute(update(ApiToken).where(ApiToken.user_id == machine.user.id).values(revoked_at=clock.now()))
    time.sleep(0.35)
    assert machine.get("/api/v1/auth/me").status_code == 401


def test_an_unknown_bearer_token_is_unauthorized(client, org_tree):
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer ygt_not-a-token"})
    assert response.status_code == 401


def test_nobody_can_revoke_another_users_token(client_as):
    owner, other = client_as("county_admin"), client_as("county_admin")
    token_id = owner.get("/api/v1/auth/tokens").get_json()[0]["id"]
    assert other.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 404
    assert owner.get("/api/v1/auth/me").status_code == 200


def test_using_a_token_records_when_it_was_last_used(client_as):
    machine = client_as("integration")
    machine.get("/api/v1/auth/me")
    assert machine.get("/api/v1/auth/tokens").get_json()[0]["last_used_at"] is not None


def _deactivate(app, user_id: int) -> None:
    from app.auth.models import User
    from app.core.db import unit_of_work
    with app.app_context(), unit_of_work() as s:
        s.get(User, user_id).active = False
