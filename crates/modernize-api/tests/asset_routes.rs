//! The asset routes over real PostgreSQL: an inventory imported through the real discovery
//! pipeline (import, mapping, cleansing, inventory, dependencies, 6R) into an engagement of its
//! own, then filters, sorts, keyset pages, edits, bulk edits, and the cross-tenant and role
//! matrices.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use common::{Answer, Auth, TestApp, app_with, operator, tenant};
use modernize::discovery::ExactNameSuggester;
use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::fixtures::{ACME, DemoIds, GLOBEX};
use modernize::models::MemberRole;
use modernize::repo::tenancy;
use modernize::service::Actor;
use modernize::service::engagements::{self, NewEngagementInput};
use modernize::tenancy::{TenantCtx, TenantTx};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

/// The inventory: names chosen to tell filters apart (`build_01` and `build-01x` tell an escaped
/// `_` from a wildcard).
const INVENTORY: &str = "\
name,hostname,ip_address,fqdn,asset_type,environment,operating_system,criticality,business_criticality,application_name,cpu_cores,memory_gb,cpu_utilization_percent
shop-web-1,shop-web-1,10.1.0.1,shop-web-1.corp.example,server,production,Ubuntu 22.04,high,high,Shop,4,16,40
shop-web-2,shop-web-2,10.1.0.2,shop-web-2.corp.example,server,production,Ubuntu 22.04,high,high,Shop,4,32,35
shop-db-1,shop-db-1,10.1.0.10,shop-db-1.corp.example,database,production,Red Hat Enterprise Linux 8,critical,critical,Shop,16,128,60
ledger-1,ledger-1,10.2.0.1,ledger-1.corp.example,server,production,AIX 7.2,medium,medium,Ledger,8,64,50
ledger-db-1,ledger-db-1,10.2.0.2,ledger-db-1.corp.example,database,production,AIX 7.2,high,high,Ledger,8,48,50
test-win-1,test-win-1,10.3.0.1,test-win-1.corp.example,server,test,Windows Server 2012 R2,low,low,,2,8,2
test-win-2,test-win-2,10.3.0.2,,server,test,Windows Server 2019,low,,,2,,3
build_01,build_01,10.4.0.1,,server,development,Ubuntu 20.04,,,,,,
build-01x,build-01x,10.4.0.2,,server,development,Ubuntu 20.04,,,,,,
";

struct World {
    app: TestApp,
    a: DemoIds,
    /// `/api/v1/client-accounts/acme-retail/engagements/estate`
    base: String,
    /// Tenant B's own engagement, for its tokens to be valid somewhere.
    b_base: String,
    analyst: Auth,
    viewer: Auth,
    admin: Auth,
    /// Tenant B's admin.
    stranger: Auth,
    /// Asset ids by name.
    ids: BTreeMap<String, Uuid>,
}

impl World {
    fn id(&self, name: &str) -> Uuid {
        *self.ids.get(name).unwrap_or_else(|| panic!("no asset {name}: {:?}", self.ids.keys()))
    }

    async fn get(&self, path: &str, auth: &Auth) -> Answer {
        self.app.get(&format!("{}{path}", self.base), auth).await
    }

    async fn send(&self, method: Method, path: &str, auth: &Auth, body: Value) -> Answer {
        self.app.call(method, &format!("{}{path}", self.base), auth, Some(body)).await
    }

    /// Every asset of the listing `query`, page by page (`limit` each), and the totals given.
    async fn all_pages(&self, query: &str, limit: usize, auth: &Auth) -> (Vec<Value>, BTreeSet<i64>) {
        let (mut assets, mut totals, mut cursor) = (Vec::new(), BTreeSet::new(), None::<String>);
        loop {
            let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
            let answer = self.get(&format!("/assets?limit={limit}&{query}{after}"), auth).await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {:?}", answer.body);
            let page = answer.body["assets"].as_array().expect("assets").clone();
            assert!(page.len() <= limit);
            assets.extend(page);
            totals.insert(answer.body["total"].as_i64().expect("total"));
            match answer.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return (assets, totals),
            }
            assert!(assets.len() < 1000, "the pages never end");
        }
    }

    /// The names of the assets the listing `query` gives (one page).
    async fn names(&self, query: &str) -> Vec<String> {
        let answer = self.get(&format!("/assets?limit=1000&{query}"), &self.viewer).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {:?}", answer.body);
        names(&answer.body["assets"])
    }
}

fn names(assets: &Value) -> Vec<String> {
    assets.as_array().expect("array").iter().map(|a| a["name"].as_str().expect("name").to_owned()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// Tenant A (Acme) with the inventory imported into its engagement `estate` (analyst and viewer
/// granted there), and tenant B (Globex) beside it.
async fn world(pool: &PgPool) -> World {
    world_with(pool, |_| {}).await
}

/// [`world`] with the server's settings changed by `tune`.
async fn world_with(pool: &PgPool, tune: impl FnOnce(&mut modernize_api::Config)) -> World {
    let app = app_with(pool, tune).await;
    let a = tenant(pool, ACME).await;
    let b = tenant(pool, GLOBEX).await;
    let op = Actor::Operator(operator());
    let input = NewEngagementInput { name: "Estate".into(), slug: Some("estate".into()), description: None };
    let engagement = engagements::create_engagement(pool, &op, ACME.slug, input).await.expect("engagement").id;
    let mut conn = pool.acquire().await.expect("connection");
    let ctx = TenantCtx::for_operator(&mut conn, operator(), a.client_account_id, Some(engagement)).await.expect("ctx");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
    tenancy::grant_engagement_access(&mut tx, a.analyst_user_id, MemberRole::Analyst).await.expect("grant");
    tenancy::grant_engagement_access(&mut tx, a.viewer_user_id, MemberRole::Viewer).await.expect("grant");
    tx.commit().await.expect("commit");

    let file = app.uploads.path().join("estate.csv");
    std::fs::write(&file, INVENTORY).expect("inventory");
    let options = ImportOptions { accept_above: Some(0.5), ..Default::default() };
    let uploads = app.uploads.path().join("uploads");
    let started = pipeline::start(&mut conn, &ctx, &uploads, &file, &options).await.expect("start");
    let worker = WorkerOptions { only_flow: Some(started.discovery_flow_id), ..Default::default() };
    pipeline::run_worker(pool, operator(), &ExactNameSuggester, &worker, true).await.expect("worker");
    let status: String = sqlx::query_scalar("SELECT status::text FROM migration.discovery_flows WHERE id = $1")
        .bind(started.discovery_flow_id)
        .fetch_one(pool)
        .await
        .expect("flow");
    assert_eq!(status, "completed");
    let ids: Vec<(String, Uuid)> = sqlx::query_as("SELECT name, id FROM migration.assets WHERE engagement_id = $1")
        .bind(engagement)
        .fetch_all(pool)
        .await
        .expect("assets");

    let (analyst, viewer, admin) =
        (app.token(a.analyst_user_id).await, app.token(a.viewer_user_id).await, app.token(a.admin_user_id).await);
    let stranger = app.token(b.admin_user_id).await;
    World {
        base: "/api/v1/client-accounts/acme-retail/engagements/estate".into(),
        b_base: format!("/api/v1/client-accounts/{}/engagements/cloud-2027", GLOBEX.slug),
        app,
        a,
        analyst,
        viewer,
        admin,
        stranger,
        ids: ids.into_iter().collect(),
    }
}

/// Everything a refused call could have changed, as text.
async fn fingerprint(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ',
            (SELECT string_agg(a::text, ',' ORDER BY id) FROM migration.assets a),
            (SELECT count(*) FROM migration.access_audit_log),
            (SELECT count(*) FROM migration.asset_dependencies))",
    )
    .fetch_one(pool)
    .await
    .expect("fingerprint")
}

#[sqlx::test(migrations = false)]
async fn each_filter_selects_its_assets(pool: PgPool) {
    let w = world(&pool).await;
    let all = w.names("").await;
    assert_eq!(all.len(), 11, "9 imported and 2 applications: {all:?}");
    let cases: [(&str, &[&str]); 11] = [
        ("asset_type=database", &["shop-db-1", "ledger-db-1"]),
        ("asset_type=application", &["Shop", "Ledger"]),
        ("environment=TEST", &["test-win-1", "test-win-2"]),
        ("six_r_strategy=retain", &["ledger-1", "ledger-db-1"]),
        ("criticality=critical", &["shop-db-1"]),
        ("business_criticality=medium", &["ledger-1"]),
        ("operating_system=windows", &["test-win-1", "test-win-2"]),
        ("search=10.1.0", &["shop-web-1", "shop-web-2", "shop-db-1"]),
        ("search=LEDGER-1.CORP", &["ledger-1"]),
        ("search=d_0", &["build_01"]),
        ("asset_type=server&environment=production&operating_system=ubuntu", &["shop-web-1", "shop-web-2"]),
    ];
    for (query, expected) in cases {
        let got = w.names(query).await;
        assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), set(expected), "{query}");
        let total = w.get(&format!("/assets?{query}"), &w.viewer).await.body["total"].clone();
        assert_eq!(total, json!(expected.len()), "{query}");
    }
    assert_eq!(w.names("search=%25").await, Vec::<String>::new(), "% is literal");
    let nul = w.get("/assets?search=a%00b", &w.viewer).await;
    nul.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nul.body["field"], "search");
    let bad = w.get("/assets?asset_type=spaceship", &w.viewer).await;
    assert!(bad.status.is_client_error(), "{bad:?}");
}

#[sqlx::test(migrations = false)]
async fn sorts_go_both_ways_with_empty_values_last(pool: PgPool) {
    let w = world(&pool).await;
    let asc = w.names("sort=name").await;
    let mut sorted = asc.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(asc.len(), 11);
    let desc = w.names("sort=name&order=desc").await;
    assert_eq!(desc, asc.iter().rev().cloned().collect::<Vec<_>>());

    let memory = w.get("/assets?limit=1000&sort=memory_gb&order=desc", &w.viewer).await;
    let values: Vec<Value> =
        memory.body["assets"].as_array().expect("assets").iter().map(|a| a["memory_gb"].clone()).collect();
    let filled: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
    assert_eq!(filled, vec![128.0, 64.0, 48.0, 32.0, 16.0, 8.0]);
    assert!(values[filled.len()..].iter().all(Value::is_null), "empty values last: {values:?}");
    let memory = w.get("/assets?limit=1000&sort=memory_gb", &w.viewer).await;
    let filled: Vec<f64> =
        memory.body["assets"].as_array().expect("assets").iter().filter_map(|a| a["memory_gb"].as_f64()).collect();
    assert_eq!(filled, vec![8.0, 16.0, 32.0, 48.0, 64.0, 128.0]);
    assert!(memory.body["assets"][10]["memory_gb"].is_null());

    // Criticality sorts in its own order (low < medium < high < critical), not alphabetically.
    let critical = w.names("sort=criticality&order=desc").await;
    assert_eq!(critical[0], "shop-db-1");
    let bad = w.get("/assets?sort=password_hash", &w.viewer).await;
    assert!(bad.status.is_client_error(), "{bad:?}");
}

#[sqlx::test(migrations = false)]
async fn keyset_pages_cover_the_set_exactly_once(pool: PgPool) {
    let w = world(&pool).await;
    for (query, expected) in [
        ("sort=name", 11),
        ("sort=name&order=desc", 11),
        ("sort=memory_gb&order=desc", 11),
        ("sort=criticality", 11),
        ("sort=six_r_strategy&order=desc", 11),
        ("asset_type=server&sort=hostname", 7),
    ] {
        for limit in [1, 3] {
            let (assets, totals) = w.all_pages(query, limit, &w.viewer).await;
            let ids: Vec<&str> = assets.iter().map(|a| a["id"].as_str().expect("id")).collect();
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            assert_eq!(ids.len(), expected, "{query} by {limit}");
            assert_eq!(unique.len(), expected, "{query} by {limit}: an asset twice");
            assert_eq!(totals, BTreeSet::from([expected as i64]), "{query} by {limit}");
            let one_page = w.get(&format!("/assets?limit=1000&{query}"), &w.viewer).await;
            let in_order: Vec<&str> = one_page.body["assets"]
                .as_array()
                .expect("assets")
                .iter()
                .map(|a| a["id"].as_str().expect("id"))
                .collect();
            assert_eq!(ids, in_order, "{query} by {limit}: pages keep the order");
        }
    }
    let first = w.get("/assets?limit=2&sort=name", &w.viewer).await;
    let cursor = first.body["next_cursor"].as_str().expect("cursor");
    let other_sort = w.get(&format!("/assets?limit=2&sort=hostname&cursor={cursor}"), &w.viewer).await;
    other_sort.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_sort.body["field"], "cursor");
    w.get("/assets?cursor=zz", &w.viewer).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let limit = w.get("/assets?limit=0", &w.viewer).await;
    limit.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(limit.body["field"], "limit");
}

#[sqlx::test(migrations = false)]
async fn an_asset_is_read_and_edited_and_the_edit_is_audited(pool: PgPool) {
    let w = world(&pool).await;
    let id = w.id("shop-web-1");
    let one = w.get(&format!("/assets/{id}"), &w.viewer).await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(one.body["hostname"], "shop-web-1");
    assert_eq!(one.body["fqdn"], "shop-web-1.corp.example");

    let edit = json!({"environment": "staging", "migration_priority": 2, "business_owner": "Zoë", "description": null});
    let edited = w.send(Method::PATCH, &format!("/assets/{id}"), &w.analyst, edit).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(
        (edited.body["environment"].clone(), edited.body["migration_priority"].clone()),
        (json!("staging"), json!(2))
    );
    assert_eq!(w.get(&format!("/assets/{id}"), &w.viewer).await.body["business_owner"], "Zoë");
    let (user, details): (Option<Uuid>, Value) = sqlx::query_as(
        "SELECT user_id, details FROM migration.access_audit_log WHERE action_type = 'asset_update' AND resource_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(user, Some(w.a.analyst_user_id));
    assert_eq!(details["changes"]["environment"], json!({"old": "production", "new": "staging"}));
    assert!(details["changes"].get("description").is_none(), "unchanged fields are not listed: {details}");

    for (body, field) in [
        (json!({"migration_priority": 11}), "migration_priority"),
        (json!({"criticality": "extreme"}), "criticality"),
        (json!({"cpu_cores": 4}), "cpu_cores"),
        (json!({"six_r_strategy": "retire"}), "six_r_strategy"),
        (json!({"name": null}), "name"),
        (json!({"environment": "x".repeat(51)}), "environment"),
        (json!({"location": "a\u{0}b"}), "location"),
        (json!({}), "changes"),
    ] {
        let before = fingerprint(&pool).await;
        let answer = w.send(Method::PATCH, &format!("/assets/{id}"), &w.analyst, body.clone()).await;
        answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], field, "{body}: {:?}", answer.body);
        assert_eq!(fingerprint(&pool).await, before, "{body}: refused, yet changed");
    }
    let unknown = Uuid::new_v4();
    w.get(&format!("/assets/{unknown}"), &w.viewer).await.assert_problem(StatusCode::NOT_FOUND);
    // An asset of another engagement of the same account is not found under this one.
    let fixture_asset = ACME.id("asset/web-01");
    w.get(&format!("/assets/{fixture_asset}"), &w.admin).await.assert_problem(StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = false)]
async fn a_bulk_edit_changes_the_filtered_set_in_one_go(pool: PgPool) {
    let w = world(&pool).await;
    let body =
        json!({"filter": {"environment": "production", "asset_type": "server"}, "changes": {"migration_wave": 3}});
    let answer = w.send(Method::POST, "/assets/bulk-update", &w.analyst, body.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body, json!({"matched": 3, "changed": 3}));
    let waves: BTreeMap<String, Value> = w.get("/assets?limit=1000", &w.viewer).await.body["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|a| (a["name"].as_str().expect("name").to_owned(), a["migration_wave"].clone()))
        .collect();
    for (name, wave) in &waves {
        let expected =
            if ["shop-web-1", "shop-web-2", "ledger-1"].contains(&name.as_str()) { json!(3) } else { Value::Null };
        assert_eq!(wave, &expected, "{name}");
    }
    // Again: they already hold the value, so none changes.
    let again = w.send(Method::POST, "/assets/bulk-update", &w.analyst, body).await;
    assert_eq!(again.body, json!({"matched": 3, "changed": 0}));
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM migration.access_audit_log WHERE action_type = 'asset_bulk_update'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(audited, 2);

    for (body, field) in [
        (json!({"filter": {"asset_typ": "server"}, "changes": {"migration_wave": 4}}), "filter.asset_typ"),
        (json!({"filter": {"asset_type": "spaceship"}, "changes": {"migration_wave": 4}}), "filter.asset_type"),
        (json!({"filter": {}, "changes": {"migration_priority": 0}}), "migration_priority"),
        (json!({"filter": {}, "changes": {"hostname": "x"}}), "hostname"),
    ] {
        let before = fingerprint(&pool).await;
        let answer = w.send(Method::POST, "/assets/bulk-update", &w.analyst, body.clone()).await;
        answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], field, "{body}: {:?}", answer.body);
        assert_eq!(fingerprint(&pool).await, before, "{body}: refused, yet changed (all or nothing)");
    }
}

/// The body of `GET {base}{path}` as sent: its data frames and content type.
async fn download(w: &World, path: &str, auth: &Auth) -> (StatusCode, String, Vec<Vec<u8>>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let Auth::Bearer(token) = auth else { panic!("a token") };
    let request = axum::http::Request::get(format!("{}{path}", w.base))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let response = w.app.router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut body = response.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("frame").into_data() {
            frames.push(data.to_vec());
        }
    }
    (status, content_type, frames)
}

fn csv_records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn the_csv_export_streams_the_filtered_set_page_by_page(pool: PgPool) {
    let w = world_with(&pool, |config| config.export_page_rows = 2).await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let edit = json!({"description": formula});
    let answer = w.send(Method::PATCH, &format!("/assets/{}", w.id("shop-web-2")), &w.analyst, edit).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);

    let (status, content_type, frames) =
        download(&w, "/assets/export.csv?asset_type=server&sort=name&order=desc", &w.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    // 7 servers, 2 per page: 4 pieces, each sent as it was read.
    assert_eq!(frames.len(), 4, "{frames:?}");
    let records = csv_records(&frames.concat());
    assert_eq!(records[0], modernize::service::assets::EXPORT_COLUMNS.map(str::to_owned).to_vec());
    let column = |name: &str| records[0].iter().position(|c| c == name).expect("column");
    let names: Vec<&str> = records[1..].iter().map(|r| r[column("name")].as_str()).collect();
    assert_eq!(
        names,
        ["test-win-2", "test-win-1", "shop-web-2", "shop-web-1", "ledger-1", "build_01", "build-01x"],
        "servers only, by name descending"
    );
    let web2 = &records[3];
    assert_eq!(web2[column("id")], w.id("shop-web-2").to_string());
    assert_eq!(web2[column("ip_address")], "10.1.0.2");
    assert_eq!(web2[column("memory_gb")], "32");
    assert_eq!(web2[column("criticality")], "high");
    assert_eq!(web2[column("description")], format!("'{formula}"), "a formula is shown, never run");

    let (status, _, frames) = download(&w, "/assets/export.csv?search=nothing-matches", &w.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv_records(&frames.concat()).len(), 1, "the header alone");
}

#[sqlx::test(migrations = false)]
async fn the_xlsx_export_opens_with_the_filtered_rows(pool: PgPool) {
    use calamine::{Data, Reader, Xlsx};
    let w = world_with(&pool, |config| config.export_page_rows = 3).await;
    let (status, content_type, frames) =
        download(&w, "/assets/export.xlsx?environment=production&sort=memory_gb&order=desc", &w.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(frames.concat())).expect("opens");
    assert_eq!(workbook.sheet_names(), ["Assets"]);
    let range = workbook.worksheet_range("Assets").expect("sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header, modernize::service::assets::EXPORT_COLUMNS.map(str::to_owned).to_vec());
    let column = |name: &str| header.iter().position(|c| c == name).expect("column");
    let got: Vec<(String, Data)> =
        rows[1..].iter().map(|r| (r[column("name")].to_string(), r[column("memory_gb")].clone())).collect();
    assert_eq!(
        got,
        [
            ("shop-db-1".to_owned(), Data::Float(128.0)),
            ("ledger-1".to_owned(), Data::Float(64.0)),
            ("ledger-db-1".to_owned(), Data::Float(48.0)),
            ("shop-web-2".to_owned(), Data::Float(32.0)),
            ("shop-web-1".to_owned(), Data::Float(16.0)),
        ]
    );
    assert_eq!(rows[1][column("asset_type")], Data::String("database".into()));
    assert_eq!(rows[1][column("id")], Data::String(w.id("shop-db-1").to_string()));
}

#[sqlx::test(migrations = false)]
async fn dependencies_are_listed_page_by_page_and_drawn_as_a_graph(pool: PgPool) {
    let w = world(&pool).await;
    let (mut seen, mut cursor, mut totals) = (Vec::new(), None::<String>, BTreeSet::new());
    loop {
        let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = w.get(&format!("/dependencies?limit=2{after}"), &w.viewer).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        totals.insert(page.body["total"].as_i64().expect("total"));
        for d in page.body["dependencies"].as_array().expect("dependencies") {
            seen.push((
                d["asset_name"].as_str().expect("name").to_owned(),
                d["depends_on_asset_name"].as_str().expect("name").to_owned(),
            ));
            assert_eq!(d["dependency_type"], "runs_on");
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    let expected: Vec<(String, String)> = [
        ("Ledger", "ledger-1"),
        ("Ledger", "ledger-db-1"),
        ("Shop", "shop-db-1"),
        ("Shop", "shop-web-1"),
        ("Shop", "shop-web-2"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .to_vec();
    assert_eq!(seen, expected, "every dependency once");
    assert_eq!(totals, BTreeSet::from([5]));
    let of_web = w.get(&format!("/dependencies?asset={}", w.id("shop-web-1")), &w.viewer).await;
    assert_eq!(of_web.body["total"], 1, "{:?}", of_web.body);
    assert_eq!(of_web.body["dependencies"][0]["asset_id"], w.id("Shop").to_string());

    let world = &w;
    let graph = |root: &str, depth: i32| {
        let path = format!("/assets/{}/dependency-graph?depth={depth}", world.id(root));
        async move { world.get(&path, &world.viewer).await }
    };
    let summary = |answer: &Answer| {
        let nodes: BTreeSet<(String, i64)> = answer.body["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| (n["name"].as_str().expect("name").to_owned(), n["distance"].as_i64().expect("distance")))
            .collect();
        let by_id: BTreeMap<&str, &str> = answer.body["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| (n["id"].as_str().expect("id"), n["name"].as_str().expect("name")))
            .collect();
        let edges: BTreeSet<(String, String)> = answer.body["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                (
                    by_id[e["source"].as_str().expect("source")].to_owned(),
                    by_id[e["target"].as_str().expect("target")].to_owned(),
                )
            })
            .collect();
        (nodes, edges)
    };
    let pairs =
        |list: &[(&str, &str)]| list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<BTreeSet<_>>();
    let one = graph("shop-web-1", 1).await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(one.body["truncated"], false);
    assert_eq!(
        summary(&one),
        (BTreeSet::from([("shop-web-1".to_owned(), 0), ("Shop".to_owned(), 1)]), pairs(&[("Shop", "shop-web-1")]))
    );
    let (nodes, edges) = summary(&graph("shop-web-1", 2).await);
    assert_eq!(
        nodes,
        BTreeSet::from([
            ("shop-web-1".to_owned(), 0),
            ("Shop".to_owned(), 1),
            ("shop-web-2".to_owned(), 2),
            ("shop-db-1".to_owned(), 2)
        ])
    );
    assert_eq!(edges, pairs(&[("Shop", "shop-web-1"), ("Shop", "shop-web-2"), ("Shop", "shop-db-1")]));
    // Around an application: its servers; the other application is not reachable.
    let (nodes, edges) = summary(&graph("Ledger", 5).await);
    assert_eq!(nodes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["Ledger", "ledger-1", "ledger-db-1"]);
    assert_eq!(edges, pairs(&[("Ledger", "ledger-1"), ("Ledger", "ledger-db-1")]));
    let (nodes, edges) = summary(&graph("build_01", 3).await);
    assert_eq!((nodes.len(), edges.len()), (1, 0), "an asset without dependencies is a graph of one");
    for depth in [0, 6] {
        let answer = graph("shop-web-1", depth).await;
        answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], "depth");
    }
}

#[sqlx::test(migrations = false)]
async fn a_recommendation_shows_its_rationale_and_an_override_is_recorded_with_its_reason(pool: PgPool) {
    let w = world(&pool).await;
    let ledger = w.id("ledger-1");
    let view = w.get(&format!("/assets/{ledger}/six-r"), &w.viewer).await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.body);
    assert_eq!(view.body["strategy"], "retain");
    assert_eq!(view.body["recommendation"]["strategy"], "retain");
    assert_eq!(view.body["recommendation"]["analysis_name"], "Discovery 6R (rules)");
    let rationale = view.body["recommendation"]["rationale"].as_array().expect("rationale");
    assert!(rationale.iter().any(|r| r.as_str().is_some_and(|r| r.contains("aix"))), "{rationale:?}");
    assert_eq!((view.body["overridden"].clone(), view.body["overrides"].clone()), (json!(false), json!([])));

    let summary = w.get("/six-r/summary", &w.viewer).await;
    assert_eq!(summary.status, StatusCode::OK, "{:?}", summary.body);
    let counts = |body: &Value| -> BTreeMap<String, i64> {
        body["strategies"]
            .as_array()
            .expect("strategies")
            .iter()
            .map(|s| (s["strategy"].as_str().expect("strategy").to_owned(), s["count"].as_i64().expect("count")))
            .collect()
    };
    let before = counts(&summary.body);
    assert_eq!(before.len(), 7, "every strategy listed");
    assert_eq!(summary.body["total_assets"], 11);
    assert_eq!(summary.body["unassessed"], 0);
    assert_eq!(before.values().sum::<i64>(), 11);
    assert_eq!((before["retain"], before["retire"], before["refactor"]), (2, 2, 0), "{before:?}");
    for (strategy, count) in &before {
        let listed = w.get(&format!("/assets?six_r_strategy={strategy}"), &w.viewer).await;
        assert_eq!(listed.body["total"], *count, "{strategy}: the summary agrees with the listing");
    }

    let reason = "Ledger moves to Linux in Q3: the AIX licence ends";
    let body = json!({"strategy": "rehost", "reason": format!("  {reason} ")});
    let overridden = w.send(Method::POST, &format!("/assets/{ledger}/six-r/override"), &w.analyst, body).await;
    assert_eq!(overridden.status, StatusCode::OK, "{:?}", overridden.body);
    let view = w.get(&format!("/assets/{ledger}/six-r"), &w.viewer).await;
    assert_eq!(view.body["strategy"], "rehost");
    assert_eq!(view.body["recommendation"]["strategy"], "retain", "the recommendation stays visible");
    assert_eq!(view.body["overridden"], true);
    let last = &view.body["overrides"][0];
    assert_eq!((last["previous"].clone(), last["strategy"].clone()), (json!("retain"), json!("rehost")));
    assert_eq!(last["reason"], reason);
    assert_eq!(last["user_id"], w.a.analyst_user_id.to_string());
    assert_eq!(w.get(&format!("/assets/{ledger}"), &w.viewer).await.body["six_r_strategy"], "rehost");
    let (user, why, details, engagement): (Option<Uuid>, Option<String>, Value, Option<Uuid>) = sqlx::query_as(
        "SELECT user_id, reason, details, engagement_id FROM migration.access_audit_log
         WHERE action_type = 'six_r_override' AND resource_type = 'asset' AND resource_id = $1",
    )
    .bind(ledger.to_string())
    .fetch_one(&pool)
    .await
    .expect("one audit entry");
    assert_eq!((user, why.as_deref()), (Some(w.a.analyst_user_id), Some(reason)));
    assert_eq!(details, json!({"old": "retain", "new": "rehost"}));
    assert!(engagement.is_some());
    let after = counts(&w.get("/six-r/summary", &w.viewer).await.body);
    assert_eq!((after["retain"], after["rehost"]), (before["retain"] - 1, before["rehost"] + 1));

    for (body, field) in [
        (json!({"strategy": "retire", "reason": "   "}), "reason"),
        (json!({"strategy": "retire"}), "reason"),
        (json!({"strategy": "teleport", "reason": "why not"}), "strategy"),
        (json!({"strategy": "retire", "reason": "x".repeat(2001)}), "reason"),
    ] {
        let before = fingerprint(&pool).await;
        let answer = w.send(Method::POST, &format!("/assets/{ledger}/six-r/override"), &w.analyst, body.clone()).await;
        answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], field, "{body}: {:?}", answer.body);
        assert_eq!(fingerprint(&pool).await, before);
    }
}

/// Every route of this module that names a tenant-A resource, with a body for writes.
fn routes(w: &World) -> Vec<(Method, String, Option<Value>)> {
    let asset = w.id("shop-web-1");
    vec![
        (Method::GET, "/assets".into(), None),
        (Method::GET, "/assets/export.csv".into(), None),
        (Method::GET, "/assets/export.xlsx".into(), None),
        (Method::GET, format!("/assets/{asset}"), None),
        (Method::PATCH, format!("/assets/{asset}"), Some(json!({"location": "Mars"}))),
        (Method::POST, "/assets/bulk-update".into(), Some(json!({"filter": {}, "changes": {"location": "Mars"}}))),
        (Method::GET, "/dependencies".into(), None),
        (Method::GET, format!("/dependencies?asset={asset}"), None),
        (Method::GET, format!("/assets/{asset}/dependency-graph"), None),
        (Method::GET, format!("/assets/{asset}/six-r"), None),
        (
            Method::POST,
            format!("/assets/{asset}/six-r/override"),
            Some(json!({"strategy": "retire", "reason": "decommissioned"})),
        ),
        (Method::GET, "/six-r/summary".into(), None),
    ]
}

#[sqlx::test(migrations = false)]
async fn another_tenant_gets_404_on_every_route_and_changes_nothing(pool: PgPool) {
    let w = world(&pool).await;
    // The stranger's token works on their own tenant.
    let own = w.app.get(&format!("{}/assets", w.b_base), &w.stranger).await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    let by_ids = format!("/api/v1/client-accounts/{}/engagements/{}", w.a.client_account_id, w.a.engagement_id);
    let mut checked = 0;
    for (method, path, body) in routes(&w) {
        for base in [w.base.as_str(), by_ids.as_str()] {
            let before = fingerprint(&pool).await;
            let answer = w.app.call(method.clone(), &format!("{base}{path}"), &w.stranger, body.clone()).await;
            answer.assert_problem(StatusCode::NOT_FOUND);
            assert_eq!(fingerprint(&pool).await, before, "{method} {path}: changed");
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
    // Tenant A's asset under tenant B's own engagement: not found either.
    let asset = w.id("shop-web-1");
    for (method, path, body) in routes(&w).into_iter().filter(|(_, path, _)| path.contains(&asset.to_string())) {
        let before = fingerprint(&pool).await;
        let answer = w.app.call(method, &format!("{}{path}", w.b_base), &w.stranger, body).await;
        answer.assert_problem(StatusCode::NOT_FOUND);
        assert_eq!(fingerprint(&pool).await, before);
    }
}

#[sqlx::test(migrations = false)]
async fn a_viewer_gets_403_on_every_write_and_changes_nothing(pool: PgPool) {
    let w = world(&pool).await;
    let mut writes = 0;
    for (method, path, body) in routes(&w) {
        if method == Method::GET {
            let answer = w.app.call(method, &format!("{}{path}", w.base), &w.viewer, None).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
            continue;
        }
        let before = fingerprint(&pool).await;
        let answer = w.app.call(method.clone(), &format!("{}{path}", w.base), &w.viewer, body.clone()).await;
        answer.assert_problem(StatusCode::FORBIDDEN);
        assert_eq!(fingerprint(&pool).await, before, "{method} {path}: changed");
        let allowed = w.app.call(method.clone(), &format!("{}{path}", w.base), &w.analyst, body).await;
        assert_eq!(allowed.status, StatusCode::OK, "{method} {path} as analyst: {:?}", allowed.body);
        writes += 1;
    }
    assert_eq!(writes, 3);
}
