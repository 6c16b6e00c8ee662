//! The service layer as the CLI and the API call it: tenant resolution by id or slug, 404 before
//! 403, derived slugs, atomic user creation, views without secrets, and the tenant transaction
//! itself (one statement to set up, nothing left behind after it).

mod common;

use modernize::error::ErrorKind;
use modernize::fixtures::{ACME, DEMO_PASSWORD, DemoIds, GLOBEX, demo_tenant};
use modernize::models::MemberRole;
use modernize::repo::RepoError;
use modernize::repo::users::Password;
use modernize::service::accounts::{self, NewAccount};
use modernize::service::engagements::{self, NewEngagementInput};
use modernize::service::users::{self, MembershipInput, NewUser};
use modernize::service::{Actor, AuthenticatedUser, auth, tokens};
use modernize::tenancy::{TenantCtx, TenantTx};
use sqlx::{Connection, PgPool};

async fn sign_in(pool: &PgPool, email: &str) -> AuthenticatedUser {
    let password = Password::parse(DEMO_PASSWORD.into()).expect("password");
    auth::sign_in(pool, email, &password).await.expect("sign in").0
}

async fn two_tenants(pool: &PgPool) -> (DemoIds, DemoIds) {
    let mut conn = common::migrated(pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let b = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    (a, b)
}

#[sqlx::test(migrations = false)]
async fn operators_create_accounts_and_engagements_with_derived_slugs(pool: PgPool) {
    let _ = two_tenants(&pool).await;
    let operator = Actor::Operator(common::operator());
    let input = NewAccount { name: "Initech Zürich".into(), ..Default::default() };
    let account = accounts::create_account(&pool, &operator, input).await.expect("account");
    assert_eq!(account.slug, "initech-zuerich");
    let by_slug = accounts::get_account(&pool, &operator, "initech-zuerich").await.expect("by slug");
    let by_id = accounts::get_account(&pool, &operator, &account.id.to_string()).await.expect("by id");
    assert_eq!((by_slug.id, by_id.id), (account.id, account.id));

    let input = NewEngagementInput { name: "Cloud Wave 1".into(), ..Default::default() };
    let engagement =
        engagements::create_engagement(&pool, &operator, "initech-zuerich", input).await.expect("engagement");
    assert_eq!(engagement.slug, "cloud-wave-1");
    let again = NewEngagementInput { name: "Cloud wave 1!".into(), ..Default::default() };
    let error = engagements::create_engagement(&pool, &operator, "initech-zuerich", again).await.expect_err("taken");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("slug")), "{error}");
    let uuid_slug =
        NewEngagementInput { name: "x".into(), slug: Some(uuid::Uuid::new_v4().to_string()), ..Default::default() };
    let error = engagements::create_engagement(&pool, &operator, "initech-zuerich", uuid_slug).await.expect_err("uuid");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Invalid, Some("slug")), "{error}");
    let found =
        engagements::get_engagement(&pool, &operator, &account.id.to_string(), "cloud-wave-1").await.expect("get");
    assert_eq!(found.id, engagement.id);
}

#[sqlx::test(migrations = false)]
async fn strangers_get_not_found_before_weak_roles_get_forbidden(pool: PgPool) {
    let (a, _) = two_tenants(&pool).await;
    let stranger = Actor::User(sign_in(&pool, &GLOBEX.email("admin")).await);
    let viewer = Actor::User(sign_in(&pool, &ACME.email("viewer")).await);
    let admin = Actor::User(sign_in(&pool, &ACME.email("admin")).await);
    let count = |pool: PgPool| async move {
        let mut conn = pool.acquire().await.expect("conn");
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM migration.engagements")
            .fetch_one(&mut *conn)
            .await
            .expect("n")
    };
    let before = count(pool.clone()).await;
    let input = || NewEngagementInput { name: "Wave 2".into(), ..Default::default() };

    let error = engagements::create_engagement(&pool, &stranger, ACME.slug, input()).await.expect_err("stranger");
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    let error = accounts::get_account(&pool, &stranger, &a.client_account_id.to_string()).await.expect_err("stranger");
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    let error = engagements::create_engagement(&pool, &viewer, ACME.slug, input()).await.expect_err("viewer");
    assert_eq!(error.kind(), ErrorKind::Forbidden, "{error}");
    assert_eq!(count(pool.clone()).await, before, "nothing written when refused");
    engagements::create_engagement(&pool, &admin, ACME.slug, input()).await.expect("admin");
    assert_eq!(count(pool.clone()).await, before + 1);

    // A viewer without an engagement grant sees no engagement; the admin sees all of them.
    assert!(engagements::list_engagements(&pool, &viewer, ACME.slug).await.expect("list").is_empty());
    assert_eq!(engagements::list_engagements(&pool, &admin, ACME.slug).await.expect("list").len(), 2);
    let error = engagements::get_engagement(&pool, &viewer, ACME.slug, "cloud-2027").await.expect_err("no grant");
    assert_eq!(error.kind(), ErrorKind::NotFound);

    // Members see their own accounts only; only platform actors create accounts.
    let listed = accounts::list_accounts(&pool, &viewer).await.expect("accounts");
    assert_eq!(listed.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(), [ACME.slug]);
    let error = accounts::create_account(&pool, &admin, NewAccount { name: "Mine".into(), ..Default::default() })
        .await
        .expect_err("not a platform admin");
    assert_eq!(error.kind(), ErrorKind::Forbidden);
}

#[sqlx::test(migrations = false)]
async fn a_user_and_all_memberships_are_created_together_or_not_at_all(pool: PgPool) {
    let _ = two_tenants(&pool).await;
    let operator = Actor::Operator(common::operator());
    let membership = |account: &str, role| MembershipInput { account: account.into(), role };
    let input = |memberships| NewUser {
        email: "Peter@Initech.example".into(),
        password: Some(Password::parse("a long enough secret".into()).expect("password")),
        first_name: Some("Peter".into()),
        last_name: None,
        memberships,
    };
    let error = users::create_user(
        &pool,
        &operator,
        input(vec![membership(ACME.slug, MemberRole::Analyst), membership("nope", MemberRole::Viewer)]),
    )
    .await
    .expect_err("unknown account");
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let created = users::create_user(
        &pool,
        &operator,
        input(vec![membership(ACME.slug, MemberRole::Analyst), membership(GLOBEX.slug, MemberRole::Viewer)]),
    )
    .await
    .expect("created");
    assert_eq!(created.user.email, "peter@initech.example");
    let roles: Vec<_> = created.memberships.iter().map(|m| (m.client_account_slug.as_str(), m.role)).collect();
    assert_eq!(roles, [(ACME.slug, MemberRole::Analyst), (GLOBEX.slug, MemberRole::Viewer)]);
    let error = users::create_user(&pool, &operator, input(Vec::new())).await.expect_err("taken");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Conflict, Some("email")), "{error}");

    // An account admin creates members of their own account only, and lists only them.
    let admin = Actor::User(sign_in(&pool, &ACME.email("admin")).await);
    let other = NewUser {
        email: "x@initech.example".into(),
        password: None,
        first_name: None,
        last_name: None,
        memberships: vec![membership(GLOBEX.slug, MemberRole::Viewer)],
    };
    let error = users::create_user(&pool, &admin, other).await.expect_err("another tenant");
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let members = users::list_users(&pool, &admin, Some(ACME.slug)).await.expect("members");
    assert!(members.iter().any(|u| u.user.email == "peter@initech.example"));
    assert!(members.iter().all(|u| u.memberships.iter().all(|m| m.client_account_slug == ACME.slug)));
    let error = users::list_users(&pool, &admin, None).await.expect_err("every user");
    assert_eq!(error.kind(), ErrorKind::Forbidden);

    // Views never carry a secret.
    let everyone = serde_json::to_string(&users::list_users(&pool, &operator, None).await.expect("all")).expect("json");
    assert!(!everyone.contains("argon2") && !everyone.contains("password"), "{everyone}");
    let peter_user = sign_in_with(&pool, "peter@initech.example", "a long enough secret").await;
    let peter = Actor::User(peter_user);
    let me = auth::current_user(&pool, &peter_user).await.expect("me");
    assert_eq!(me.memberships.len(), 2);
    let issued = tokens::create_token(&pool, &peter, "peter@initech.example", "CI", None).await.expect("token");
    let listed =
        serde_json::to_string(&tokens::list_tokens(&pool, &peter, "peter@initech.example").await.expect("list"))
            .expect("json");
    assert!(!listed.contains(&issued.token), "a listed token never shows its secret");
    let error = tokens::list_tokens(&pool, &admin, "peter@initech.example").await.expect_err("someone else's");
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

async fn sign_in_with(pool: &PgPool, email: &str, password: &str) -> AuthenticatedUser {
    let password = Password::parse(password.into()).expect("password");
    auth::sign_in(pool, email, &password).await.expect("sign in").0
}

#[sqlx::test(migrations = false)]
async fn a_tenant_transaction_leaves_nothing_behind_and_cannot_be_nested(pool: PgPool) {
    let (a, _) = two_tenants(&pool).await;
    let mut conn = pool.acquire().await.expect("conn");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), a.client_account_id, None).await.expect("ctx");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("begin");
    let (user, tenant): (String, String) =
        sqlx::query_as("SELECT current_user::text, current_setting('modernize.client_account_id')")
            .fetch_one(tx.conn())
            .await
            .expect("settings");
    assert_eq!((user.as_str(), tenant), ("modernize_app", a.client_account_id.to_string()));
    tx.commit().await.expect("commit");
    let (user, tenant): (String, String) =
        sqlx::query_as("SELECT current_user::text, coalesce(current_setting('modernize.client_account_id', true), '')")
            .fetch_one(&mut *conn)
            .await
            .expect("settings");
    assert_ne!(user, "modernize_app", "the role ends with the transaction");
    assert_eq!(tenant, "", "the tenant ends with the transaction");

    // Inside another transaction the settings would outlive a savepoint: refused.
    let mut outer = conn.begin().await.expect("outer");
    let nested = TenantTx::begin(&mut outer, &ctx).await;
    assert!(matches!(nested, Err(RepoError::NestedTenantTx)), "{nested:?}");
}
