"""Logout ends the session on the server: a copied cookie does not sign anyone in afterwards."""

from tests.support.accounts import PASSWORD


def test_a_copied_session_cookie_is_dead_after_logout(app, client, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get(f"/o/{org.slug}/").status_code == 200
    assert client.post("/logout").status_code == 302
    thief.set_cookie("session", copied)
    assert thief.get(f"/o/{org.slug}/").status_code == 302
    assert thief.get(f"/o/{org.slug}/").location.startswith("/login")


def test_logout_signs_out_the_other_sessions_too_and_a_new_login_works(app, client, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    client.post("/logout")
    assert other.get(f"/o/{org.slug}/").status_code == 302
    login(user)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_a_remember_me_cookie_is_dead_after_logout(app, client, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    remembered = client.get_cookie("remember_token").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remembered)
    assert thief.get(f"/o/{org.slug}/").status_code == 302
