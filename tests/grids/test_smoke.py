def test_it_serves_the_login_page_in_chinese(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode() or "Log in" in response.content.decode()
