def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_owner_logs_in_and_lands_on_their_organization(client, make_user, make_org, login):
    owner = make_user(email="sabine@example.com")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    response = login(owner)
    assert response.location == f"/o/{org.slug}/"
    page = client.get(response.location)
    assert page.status_code == 200
    assert "Müller Metallbau GmbH" in page.text
