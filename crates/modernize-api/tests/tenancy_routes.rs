//! Tenancy routes: client accounts, engagements, members, the caller's API tokens. Each works for
//! the right role; another tenant's ids are 404 and change nothing (cross-tenant matrix); a role
//! too weak is 403 and changes nothing (role matrix).
//!
//! Sessions (cookies) authenticate most requests here, as they do the web UI's.

mod common;

use axum::http::{Method, StatusCode, header};
use common::{Answer, Auth, TestApp, app, tenant};
use modernize::fixtures::{ACME, DEMO_PASSWORD, DemoIds, GLOBEX};
use serde_json::{Value, json};
use sqlx::PgPool;

/// Everything the tenancy routes can change, as one comparable value.
async fn tenancy_state(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'account ' || id || ' ' || slug || ' ' || name FROM migration.client_accounts
         UNION ALL SELECT 'engagement ' || id || ' ' || slug || ' ' || name FROM migration.engagements
         UNION ALL SELECT 'user ' || id || ' ' || email || ' ' || is_active || ' ' || coalesce(password_hash, '')
           FROM migration.users
         UNION ALL SELECT 'member ' || client_account_id || ' ' || user_id || ' ' || role || ' ' || is_active
           FROM migration.user_account_associations
         UNION ALL SELECT 'access ' || client_account_id || ' ' || engagement_id || ' ' || user_id || ' ' || role || ' '
           || is_active FROM migration.engagement_access
         UNION ALL SELECT 'token ' || id || ' ' || coalesce(revoked_at::text, 'live') FROM modernize.api_tokens
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("state")
}

fn location(answer: &Answer) -> String {
    answer.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).expect("location").to_owned()
}

async fn session(app: &TestApp, tenant: modernize::fixtures::DemoTenant, who: &str) -> Auth {
    app.login(&tenant.email(who), DEMO_PASSWORD).await
}

#[sqlx::test(migrations = false)]
async fn client_accounts_are_listed_to_members_and_created_by_platform_admins(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    tenant(&pool, GLOBEX).await;
    let viewer = session(&app, ACME, "viewer").await;
    let listed = app.get("/api/v1/client-accounts", &viewer).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body.as_array().map(|a| a.len()), Some(1), "only the viewer's own: {:?}", listed.body);
    for name in [ACME.slug.to_owned(), acme.client_account_id.to_string()] {
        let one = app.get(&format!("/api/v1/client-accounts/{name}"), &viewer).await;
        assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
        assert_eq!(one.body["id"], acme.client_account_id.to_string());
    }

    let new = json!({"name": "Initech", "industry": "Software"});
    let admin = session(&app, ACME, "admin").await;
    app.call(Method::POST, "/api/v1/client-accounts", &admin, Some(new.clone()))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    sqlx::query("UPDATE migration.users SET is_platform_admin = true WHERE id = $1")
        .bind(acme.admin_user_id)
        .execute(&pool)
        .await
        .expect("platform admin");
    let created = app.call(Method::POST, "/api/v1/client-accounts", &admin, Some(new.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["slug"], "initech");
    assert_eq!(location(&created), format!("/api/v1/client-accounts/{}", created.body["id"].as_str().expect("id")));
    let fetched = app.get(&location(&created), &admin).await;
    assert_eq!(fetched.status, StatusCode::OK, "a platform admin reaches it: {:?}", fetched.body);
    assert_eq!(app.get("/api/v1/client-accounts", &admin).await.body.as_array().map(|a| a.len()), Some(3));

    let taken = app.call(Method::POST, "/api/v1/client-accounts", &admin, Some(new)).await;
    taken.assert_problem(StatusCode::CONFLICT);
    assert_eq!(taken.body["field"], "slug", "{:?}", taken.body);
    let bad =
        app.call(Method::POST, "/api/v1/client-accounts", &admin, Some(json!({"name": "X", "slug": "Not A Slug"})));
    let bad = bad.await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["field"], "slug");
    let nul = app.call(Method::POST, "/api/v1/client-accounts", &admin, Some(json!({"name": "Nul\u{0}Corp"}))).await;
    nul.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.get("/api/v1/client-accounts/no%00such", &admin).await.assert_problem(StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = false)]
async fn engagements_are_read_by_members_and_created_by_admins(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let analyst = session(&app, ACME, "analyst").await;
    let listed = app.get("/api/v1/client-accounts/acme-retail/engagements", &analyst).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body[0]["id"], acme.engagement_id.to_string());
    for name in ["cloud-2027".to_owned(), acme.engagement_id.to_string()] {
        let uri = format!("/api/v1/client-accounts/{}/engagements/{name}", acme.client_account_id);
        let one = app.get(&uri, &analyst).await;
        assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
        assert_eq!(one.body["slug"], "cloud-2027");
    }

    let admin = session(&app, ACME, "admin").await;
    let new = json!({"name": "Data centre exit 2028", "description": "Frankfurt"});
    let created = app.call(Method::POST, "/api/v1/client-accounts/acme-retail/engagements", &admin, Some(new)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["slug"], "data-centre-exit-2028");
    let id = created.body["id"].as_str().expect("id");
    assert_eq!(location(&created), format!("/api/v1/client-accounts/{}/engagements/{id}", acme.client_account_id));
    assert_eq!(app.get(&location(&created), &admin).await.status, StatusCode::OK);
    // The analyst has no grant to the new engagement: it is not theirs to see.
    app.get(&location(&created), &analyst).await.assert_problem(StatusCode::NOT_FOUND);

    let taken = json!({"name": "Again", "slug": "cloud-2027"});
    let taken = app.call(Method::POST, "/api/v1/client-accounts/acme-retail/engagements", &admin, Some(taken)).await;
    taken.assert_problem(StatusCode::CONFLICT);
    assert_eq!(taken.body["field"], "slug", "{:?}", taken.body);
    let unknown = json!({"name": "X", "owner": "me"});
    let unknown = app.call(Method::POST, "/api/v1/client-accounts/acme-retail/engagements", &admin, Some(unknown));
    unknown.await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = false)]
async fn admins_add_change_and_remove_members(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let globex = tenant(&pool, GLOBEX).await;
    let members_uri = "/api/v1/client-accounts/acme-retail/members";
    let viewer = session(&app, ACME, "viewer").await;
    let listed = app.get(members_uri, &viewer).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let emails: Vec<&str> =
        listed.body.as_array().expect("list").iter().filter_map(|m| m["user"]["email"].as_str()).collect();
    assert_eq!(emails, ["admin@acme-retail.example", "analyst@acme-retail.example", "viewer@acme-retail.example"]);

    // A new user, created with a password that is never echoed.
    let admin = session(&app, ACME, "admin").await;
    let password = "a brand new secret phrase";
    let new =
        json!({"email": "New.Hire@Acme-Retail.example", "role": "analyst", "password": password, "first_name": "New"});
    let added = app.call(Method::POST, members_uri, &admin, Some(new.clone())).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert!(!added.body.to_string().contains(password), "{:?}", added.body);
    assert_eq!((added.body["user_created"].clone(), added.body["role"].clone()), (json!(true), json!("analyst")));
    assert_eq!(added.body["user"]["email"], "new.hire@acme-retail.example");
    let user_id = added.body["user"]["id"].as_str().expect("id").to_owned();
    let member_uri = format!("/api/v1/client-accounts/{}/members/{user_id}", acme.client_account_id);
    assert_eq!(location(&added), member_uri);
    assert_eq!(app.get(&member_uri, &viewer).await.body["role"], "analyst");
    let hire = app.login("new.hire@acme-retail.example", password).await;
    assert_eq!(app.get("/api/v1/client-accounts/acme-retail/engagements", &hire).await.status, StatusCode::OK);

    let again = app.call(Method::POST, members_uri, &admin, Some(new)).await;
    again.assert_problem(StatusCode::CONFLICT);
    assert_eq!(again.body["field"], "email", "{:?}", again.body);

    // An existing user of another account: added, their password left alone.
    let existing =
        json!({"email": GLOBEX.email("analyst"), "role": "viewer", "password": "an attempt to take it over"});
    let refused = app.call(Method::POST, members_uri, &admin, Some(existing)).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "password");
    let existing = json!({"email": GLOBEX.email("analyst"), "role": "viewer"});
    let added = app.call(Method::POST, members_uri, &admin, Some(existing)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["user_created"], false);
    assert_eq!(added.body["user"]["id"], globex.analyst_user_id.to_string());

    // Change the role, then remove the member: their session no longer reaches the account.
    let changed = app.call(Method::PATCH, &member_uri, &admin, Some(json!({"role": "viewer"}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["role"], "viewer");
    let bad_role = app.call(Method::PATCH, &member_uri, &admin, Some(json!({"role": "owner"}))).await;
    bad_role.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_role.body["field"], "role", "{:?}", bad_role.body);
    let removed = app.call(Method::DELETE, &member_uri, &admin, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    app.get(&member_uri, &admin).await.assert_problem(StatusCode::NOT_FOUND);
    app.call(Method::DELETE, &member_uri, &admin, None).await.assert_problem(StatusCode::NOT_FOUND);
    app.get("/api/v1/client-accounts/acme-retail", &hire).await.assert_problem(StatusCode::NOT_FOUND);
    // Added back, with the role asked for this time.
    let back = json!({"email": "new.hire@acme-retail.example", "role": "admin"});
    let back = app.call(Method::POST, members_uri, &admin, Some(back)).await;
    assert_eq!((back.status, back.body["role"].clone()), (StatusCode::CREATED, json!("admin")), "{:?}", back.body);
}

#[sqlx::test(migrations = false)]
async fn the_last_admin_can_be_neither_demoted_nor_removed(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let admin = session(&app, ACME, "admin").await;
    let me = format!("/api/v1/client-accounts/acme-retail/members/{}", acme.admin_user_id);
    let demoted = app.call(Method::PATCH, &me, &admin, Some(json!({"role": "analyst"}))).await;
    demoted.assert_problem(StatusCode::CONFLICT);
    assert_eq!(demoted.body["field"], "role");
    app.call(Method::DELETE, &me, &admin, None).await.assert_problem(StatusCode::CONFLICT);
    // With a second admin, the first may step down.
    let analyst = format!("/api/v1/client-accounts/acme-retail/members/{}", acme.analyst_user_id);
    let promoted = app.call(Method::PATCH, &analyst, &admin, Some(json!({"role": "admin"}))).await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    let stepped_down = app.call(Method::PATCH, &me, &admin, Some(json!({"role": "viewer"}))).await;
    assert_eq!(stepped_down.status, StatusCode::OK, "{:?}", stepped_down.body);
    // Now a viewer: no more member management.
    app.call(Method::DELETE, &analyst, &admin, None).await.assert_problem(StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = false)]
async fn callers_issue_list_and_revoke_their_own_tokens(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let viewer = session(&app, ACME, "viewer").await;
    let issued = app.call(Method::POST, "/api/v1/me/tokens", &viewer, Some(json!({"name": "laptop"}))).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{:?}", issued.body);
    let secret = issued.body["token"].as_str().expect("the secret, once").to_owned();
    let id = issued.body["api_token"]["id"].as_str().expect("id").to_owned();
    assert_eq!(location(&issued), format!("/api/v1/me/tokens/{id}"));
    assert_eq!(issued.body["api_token"]["user_id"], acme.viewer_user_id.to_string());

    let bearer = Auth::Bearer(secret.clone());
    assert_eq!(app.get("/api/v1/me", &bearer).await.body["authenticated_by"], "api_token");
    let listed = app.get("/api/v1/me/tokens", &viewer).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert!(!listed.body.to_string().contains(&secret[secret.len() - 20..]), "never the secret again");
    assert_eq!(app.get(&location(&issued), &viewer).await.body["state"], "active");

    let past = json!({"name": "late", "expires_at": "2001-01-01T00:00:00Z"});
    let refused = app.call(Method::POST, "/api/v1/me/tokens", &viewer, Some(past)).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "expires_at");

    let revoked = app.call(Method::DELETE, &location(&issued), &viewer, None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{:?}", revoked.body);
    assert_eq!(revoked.body["state"], "revoked");
    app.get("/api/v1/me", &bearer).await.assert_problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn admins_grant_change_and_revoke_engagement_access(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let globex = tenant(&pool, GLOBEX).await;
    let engagement = format!("/api/v1/client-accounts/acme-retail/engagements/{}", acme.engagement_id);
    let access = format!("{engagement}/access");
    let of = |user: uuid::Uuid| format!("/api/v1/client-accounts/{}/engagements/cloud-2027/access/{user}", ACME.slug);
    let admin = session(&app, ACME, "admin").await;
    let viewer = session(&app, ACME, "viewer").await;
    // The fixtures grant the analyst only: the viewer sees no engagement yet.
    let listed = app.get(&access, &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let emails = |body: &Value| -> Vec<String> {
        body.as_array().expect("list").iter().filter_map(|g| g["user"]["email"].as_str().map(str::to_owned)).collect()
    };
    assert_eq!(emails(&listed.body), [ACME.email("analyst")]);
    assert_eq!(listed.body[0]["role"], "analyst");
    app.get(&engagement, &viewer).await.assert_problem(StatusCode::NOT_FOUND);
    let none = app.get("/api/v1/client-accounts/acme-retail/engagements", &viewer).await;
    assert_eq!(none.body, json!([]));

    // Granted with their account role by default: now the viewer reads the engagement.
    let granted = app.call(Method::PUT, &of(acme.viewer_user_id), &admin, Some(json!({}))).await;
    assert_eq!(granted.status, StatusCode::OK, "{:?}", granted.body);
    assert_eq!(
        (granted.body["role"].clone(), granted.body["granted_by"].clone()),
        (json!("viewer"), json!(acme.admin_user_id))
    );
    assert_eq!(granted.body["engagement_id"], acme.engagement_id.to_string());
    assert_eq!(app.get(&engagement, &viewer).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("{engagement}/assets"), &viewer).await.status, StatusCode::OK);
    // Granting again changes nothing but the time.
    let again = app.call(Method::PUT, &of(acme.viewer_user_id), &admin, Some(json!({"role": "viewer"}))).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);

    // Never above the account role; never to an account admin; only to members.
    let above = app.call(Method::PUT, &of(acme.viewer_user_id), &admin, Some(json!({"role": "analyst"}))).await;
    above.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(above.body["field"], "role", "{:?}", above.body);
    let to_admin = app.call(Method::PUT, &of(acme.admin_user_id), &admin, Some(json!({}))).await;
    to_admin.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(to_admin.body["field"], "user_id", "{:?}", to_admin.body);
    let bad_role = app.call(Method::PUT, &of(acme.viewer_user_id), &admin, Some(json!({"role": "owner"}))).await;
    bad_role.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    for stranger in [globex.analyst_user_id, uuid::Uuid::new_v4()] {
        let refused = app.call(Method::PUT, &of(stranger), &admin, Some(json!({}))).await;
        refused.assert_problem(StatusCode::NOT_FOUND);
        assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("member")), "{:?}", refused.body);
    }

    // Lowered to viewer, the analyst can no longer edit the engagement's assets.
    let lowered = app.call(Method::PUT, &of(acme.analyst_user_id), &admin, Some(json!({"role": "viewer"}))).await;
    assert_eq!(lowered.body["role"], "viewer", "{:?}", lowered.body);
    let analyst = session(&app, ACME, "analyst").await;
    let patch = json!({"description": "mine"});
    let asset: uuid::Uuid = sqlx::query_scalar("SELECT id FROM migration.assets WHERE engagement_id = $1 LIMIT 1")
        .bind(acme.engagement_id)
        .fetch_one(&pool)
        .await
        .expect("an asset");
    let edit = format!("{engagement}/assets/{asset}");
    app.call(Method::PATCH, &edit, &analyst, Some(patch.clone())).await.assert_problem(StatusCode::FORBIDDEN);
    let listed = app.get(&access, &admin).await;
    assert_eq!(emails(&listed.body), [ACME.email("analyst"), ACME.email("viewer")]);

    // A member demoted in the account keeps no grant above the new role; promoted to admin,
    // their old grant no longer limits them.
    app.call(Method::PUT, &of(acme.analyst_user_id), &admin, Some(json!({"role": "analyst"}))).await;
    let member = format!("/api/v1/client-accounts/acme-retail/members/{}", acme.analyst_user_id);
    assert_eq!(app.call(Method::PATCH, &member, &admin, Some(json!({"role": "viewer"}))).await.status, StatusCode::OK);
    let listed = app.get(&access, &admin).await;
    assert_eq!(listed.body[0]["role"], "viewer", "{:?}", listed.body);
    assert_eq!(app.call(Method::PATCH, &member, &admin, Some(json!({"role": "admin"}))).await.status, StatusCode::OK);
    assert_eq!(app.get(&access, &analyst).await.status, StatusCode::OK, "an admin now, whatever the grant says");
    let edited = app.call(Method::PATCH, &edit, &analyst, Some(patch)).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);

    // Revoked: the viewer is back to seeing nothing; revoking twice is 404.
    let revoked = app.call(Method::DELETE, &of(acme.viewer_user_id), &admin, None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{:?}", revoked.body);
    app.get(&engagement, &viewer).await.assert_problem(StatusCode::NOT_FOUND);
    app.call(Method::DELETE, &of(acme.viewer_user_id), &admin, None).await.assert_problem(StatusCode::NOT_FOUND);
    let listed = app.get(&access, &admin).await;
    assert!(!emails(&listed.body).contains(&ACME.email("viewer")), "{:?}", listed.body);
}

#[sqlx::test(migrations = false)]
async fn admins_list_and_revoke_their_members_tokens(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let analyst = session(&app, ACME, "analyst").await;
    let issued = app.call(Method::POST, "/api/v1/me/tokens", &analyst, Some(json!({"name": "laptop"}))).await;
    let secret = issued.body["token"].as_str().expect("secret").to_owned();
    let token_id = issued.body["api_token"]["id"].as_str().expect("id").to_owned();
    let tokens = format!("/api/v1/client-accounts/acme-retail/members/{}/tokens", acme.analyst_user_id);
    let admin = session(&app, ACME, "admin").await;
    let listed = app.get(&tokens, &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (listed.body[0]["id"].as_str(), listed.body[0]["state"].as_str()),
        (Some(token_id.as_str()), Some("active"))
    );
    assert!(!listed.body.to_string().contains(&secret[secret.len() - 20..]), "never the secret");
    let viewer = session(&app, ACME, "viewer").await;
    app.get(&tokens, &viewer).await.assert_problem(StatusCode::FORBIDDEN);
    let stranger = format!("/api/v1/client-accounts/acme-retail/members/{}/tokens", uuid::Uuid::new_v4());
    app.get(&stranger, &admin).await.assert_problem(StatusCode::NOT_FOUND);
    let unknown = format!("{tokens}/{}", uuid::Uuid::new_v4());
    app.call(Method::DELETE, &unknown, &admin, None).await.assert_problem(StatusCode::NOT_FOUND);

    let bearer = Auth::Bearer(secret);
    assert_eq!(app.get("/api/v1/me", &bearer).await.status, StatusCode::OK);
    let revoked = app.call(Method::DELETE, &format!("{tokens}/{token_id}"), &admin, None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{:?}", revoked.body);
    assert_eq!(revoked.body["state"], "revoked");
    app.get("/api/v1/me", &bearer).await.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/me", &analyst).await.status, StatusCode::OK, "the session is not the token");
}

#[sqlx::test(migrations = false)]
async fn platform_admins_deactivate_users_whose_sign_in_tokens_and_sessions_then_fail(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let analyst = session(&app, ACME, "analyst").await;
    let issued = app.call(Method::POST, "/api/v1/me/tokens", &analyst, Some(json!({"name": "ci"}))).await;
    let bearer = Auth::Bearer(issued.body["token"].as_str().expect("secret").to_owned());
    let deactivate = format!("/api/v1/users/{}/deactivate", acme.analyst_user_id);
    let admin = session(&app, ACME, "admin").await;
    let before = tenancy_state(&pool).await;
    app.call(Method::POST, &deactivate, &admin, None).await.assert_problem(StatusCode::FORBIDDEN);
    app.call(Method::POST, &deactivate, &analyst, None).await.assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(tenancy_state(&pool).await, before, "a refused deactivation changed something");

    sqlx::query("UPDATE migration.users SET is_platform_admin = true WHERE id = $1")
        .bind(acme.admin_user_id)
        .execute(&pool)
        .await
        .expect("platform admin");
    let unknown = format!("/api/v1/users/{}/deactivate", uuid::Uuid::new_v4());
    app.call(Method::POST, &unknown, &admin, None).await.assert_problem(StatusCode::NOT_FOUND);
    let myself = format!("/api/v1/users/{}/deactivate", acme.admin_user_id);
    let refused = app.call(Method::POST, &myself, &admin, None).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert_eq!(refused.body["field"], "user_id");
    let done = app.call(Method::POST, &deactivate, &admin, None).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(
        (done.body["id"].as_str(), done.body["is_active"].as_bool()),
        (Some(acme.analyst_user_id.to_string().as_str()), Some(false))
    );

    app.get("/api/v1/me", &analyst).await.assert_problem(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me", &bearer).await.assert_problem(StatusCode::UNAUTHORIZED);
    let login = json!({"email": ACME.email("analyst"), "password": DEMO_PASSWORD});
    app.call(Method::POST, "/api/v1/auth/login", &Auth::None, Some(login))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let (live_sessions, live_tokens): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM modernize.sessions WHERE user_id = $1 AND revoked_at IS NULL),
                (SELECT count(*) FROM modernize.api_tokens WHERE user_id = $1 AND revoked_at IS NULL)",
    )
    .bind(acme.analyst_user_id)
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((live_sessions, live_tokens), (0, 0), "sessions ended, tokens revoked");
    let again = app.call(Method::POST, &deactivate, &admin, None).await;
    assert_eq!(again.status, StatusCode::OK, "deactivating twice changes nothing: {:?}", again.body);

    // Reactivated: the password signs in again, the ended session and the revoked token stay so.
    let reactivate = format!("/api/v1/users/{}/reactivate", acme.analyst_user_id);
    let viewer = session(&app, ACME, "viewer").await;
    let before = tenancy_state(&pool).await;
    app.call(Method::POST, &reactivate, &viewer, None).await.assert_problem(StatusCode::FORBIDDEN);
    app.call(Method::POST, &reactivate, &analyst, None).await.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(tenancy_state(&pool).await, before, "a refused reactivation changed something");
    let unknown = format!("/api/v1/users/{}/reactivate", uuid::Uuid::new_v4());
    app.call(Method::POST, &unknown, &admin, None).await.assert_problem(StatusCode::NOT_FOUND);
    let done = app.call(Method::POST, &reactivate, &admin, None).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["is_active"], true);
    app.get("/api/v1/me", &analyst).await.assert_problem(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me", &bearer).await.assert_problem(StatusCode::UNAUTHORIZED);
    let live_tokens: i64 =
        sqlx::query_scalar("SELECT count(*) FROM modernize.api_tokens WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(acme.analyst_user_id)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(live_tokens, 0, "tokens revoked at deactivation stay revoked");
    let login = json!({"email": ACME.email("analyst"), "password": DEMO_PASSWORD});
    let signed_in = app.call(Method::POST, "/api/v1/auth/login", &Auth::None, Some(login)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{:?}", signed_in.body);
    let again = app.call(Method::POST, &reactivate, &admin, None).await;
    assert_eq!(again.status, StatusCode::OK, "reactivating twice changes nothing: {:?}", again.body);
}

/// One request of a matrix: method, path, body.
type Call = (Method, String, Option<Value>);

/// Every tenancy route that names something of tenant A.
fn calls_on(a: &DemoIds, a_token_id: &str, b: &DemoIds) -> Vec<Call> {
    let account = a.client_account_id;
    let engagement = a.engagement_id;
    let member = a.analyst_user_id;
    let new_member = json!({"email": "intruder@example.com", "role": "admin", "password": "a long enough password"});
    let mut calls = Vec::new();
    for name in [account.to_string(), ACME.slug.to_owned()] {
        let base = format!("/api/v1/client-accounts/{name}");
        calls.extend([
            (Method::GET, base.clone(), None),
            (Method::GET, format!("{base}/engagements"), None),
            (Method::POST, format!("{base}/engagements"), Some(json!({"name": "Intrusion"}))),
            (Method::GET, format!("{base}/engagements/{engagement}"), None),
            (Method::GET, format!("{base}/engagements/cloud-2027"), None),
            (Method::GET, format!("{base}/members"), None),
            (Method::POST, format!("{base}/members"), Some(new_member.clone())),
            (Method::GET, format!("{base}/members/{member}"), None),
            (Method::PATCH, format!("{base}/members/{member}"), Some(json!({"role": "viewer"}))),
            (Method::DELETE, format!("{base}/members/{member}"), None),
            (Method::GET, format!("{base}/engagements/{engagement}/access"), None),
            (Method::GET, format!("{base}/members/{member}/tokens"), None),
            (Method::DELETE, format!("{base}/members/{member}/tokens/{a_token_id}"), None),
            (Method::PUT, format!("{base}/engagements/cloud-2027/access/{member}"), Some(json!({"role": "viewer"}))),
            (Method::DELETE, format!("{base}/engagements/{engagement}/access/{member}"), None),
        ]);
    }
    // A's ids under B's own account.
    let own = format!("/api/v1/client-accounts/{}", b.client_account_id);
    calls.extend([
        (Method::GET, format!("{own}/engagements/{engagement}"), None),
        (Method::GET, format!("{own}/members/{member}"), None),
        (Method::PATCH, format!("{own}/members/{member}"), Some(json!({"role": "viewer"}))),
        (Method::DELETE, format!("{own}/members/{member}"), None),
        (Method::GET, format!("{own}/engagements/{engagement}/access"), None),
        (Method::GET, format!("{own}/members/{member}/tokens"), None),
        (Method::DELETE, format!("{own}/members/{}/tokens/{a_token_id}", b.analyst_user_id), None),
        (Method::PUT, format!("{own}/engagements/{}/access/{member}", b.engagement_id), Some(json!({}))),
        (Method::DELETE, format!("{own}/engagements/{}/access/{member}", b.engagement_id), None),
        (Method::GET, format!("/api/v1/me/tokens/{a_token_id}"), None),
        (Method::DELETE, format!("/api/v1/me/tokens/{a_token_id}"), None),
    ]);
    calls
}

#[sqlx::test(migrations = false)]
async fn another_tenants_admin_gets_404_on_every_id_and_changes_nothing(pool: PgPool) {
    let app = app(&pool).await;
    let a = tenant(&pool, ACME).await;
    let b = tenant(&pool, GLOBEX).await;
    let a_analyst = session(&app, ACME, "analyst").await;
    let a_token = app.call(Method::POST, "/api/v1/me/tokens", &a_analyst, Some(json!({"name": "a's"}))).await;
    let a_token_id = a_token.body["api_token"]["id"].as_str().expect("id").to_owned();
    let b_admin = session(&app, GLOBEX, "admin").await;
    let before = tenancy_state(&pool).await;
    let calls = calls_on(&a, &a_token_id, &b);
    for (method, uri, body) in calls.iter().cloned() {
        let answer = app.call(method.clone(), &uri, &b_admin, body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {uri}: {:?}", answer.body);
        answer.assert_problem(StatusCode::NOT_FOUND);
    }
    assert_eq!(tenancy_state(&pool).await, before, "B's admin changed something of A's");
    assert!(calls.len() >= 41, "{}", calls.len());
}

#[sqlx::test(migrations = false)]
async fn viewers_and_analysts_are_refused_every_admin_write_and_change_nothing(pool: PgPool) {
    let app = app(&pool).await;
    let a = tenant(&pool, ACME).await;
    let account = a.client_account_id;
    let mut writes: Vec<Call> = vec![
        (Method::POST, "/api/v1/client-accounts".into(), Some(json!({"name": "Not yours"}))),
        (Method::POST, format!("/api/v1/client-accounts/{account}/engagements"), Some(json!({"name": "Not yours"}))),
        (
            Method::POST,
            format!("/api/v1/client-accounts/{account}/members"),
            Some(json!({"email": "friend@example.com", "role": "admin"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/client-accounts/{account}/members/{}", a.admin_user_id),
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, format!("/api/v1/client-accounts/{account}/members/{}", a.admin_user_id), None),
        (Method::GET, format!("/api/v1/client-accounts/{account}/engagements/cloud-2027/access"), None),
        (
            Method::PUT,
            format!("/api/v1/client-accounts/{account}/engagements/cloud-2027/access/{}", a.viewer_user_id),
            Some(json!({"role": "viewer"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/client-accounts/{account}/engagements/cloud-2027/access/{}", a.analyst_user_id),
            None,
        ),
    ];
    let admin_tokens = format!("/api/v1/client-accounts/{account}/members/{}/tokens", a.admin_user_id);
    writes.push((Method::GET, admin_tokens.clone(), None));
    writes.push((Method::DELETE, format!("{admin_tokens}/{}", uuid::Uuid::new_v4()), None));
    writes.push((Method::POST, format!("/api/v1/users/{}/deactivate", a.admin_user_id), None));
    writes.push((Method::POST, format!("/api/v1/users/{}/reactivate", a.admin_user_id), None));
    // The viewer reaches the engagement (else its routes would be 404 to them, not 403).
    let admin = session(&app, ACME, "admin").await;
    let grant = format!("/api/v1/client-accounts/{account}/engagements/cloud-2027/access/{}", a.viewer_user_id);
    assert_eq!(app.call(Method::PUT, &grant, &admin, Some(json!({}))).await.status, StatusCode::OK);
    let before = tenancy_state(&pool).await;
    for who in ["viewer", "analyst"] {
        let caller = session(&app, ACME, who).await;
        for (method, uri, body) in writes.iter().cloned() {
            let answer = app.call(method.clone(), &uri, &caller, body).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{who}: {method} {uri}: {:?}", answer.body);
            answer.assert_problem(StatusCode::FORBIDDEN);
        }
    }
    assert_eq!(tenancy_state(&pool).await, before, "a refused write changed something");
}
