//! The asset inventory of an engagement: list with filters, sort and keyset pagination (with the
//! filtered total), get one, edit one, edit a filtered set at once, export a filtered set. Reading
//! needs the viewer role in the engagement, editing the analyst role. Every edit is written to the
//! tenant's audit trail (`access_audit_log`) in the transaction that makes it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{Actor, ServiceError, connection, engagement_ctx, engagement_tx, require};
use crate::models::{
    AccessAuditLogEntry, Asset, AssetPatch, AssetStatus, AssetType, CriticalityLevel, MemberRole,
    NewAccessAuditLogEntry, SixrStrategy,
};
use crate::repo::assets::{self as assets_repo, AssetFilter, AssetKey, AssetSort, ListRow, ListedAsset, SortOrder};
use crate::repo::{RepoError, table};
use crate::tenancy::{TenantCtx, TenantTx};

/// The fields a user may edit on an asset, with the most characters a text field holds (its
/// column's `varchar` size; None for `text` and non-text fields). The rest come from discovery;
/// the 6R strategy changes only by overriding the recommendation, which records a reason.
pub const EDITABLE_FIELDS: [(&str, Option<usize>); 13] = [
    ("name", Some(255)),
    ("description", None),
    ("environment", Some(50)),
    ("location", Some(255)),
    ("business_owner", Some(255)),
    ("technical_owner", Some(255)),
    ("department", Some(255)),
    ("business_unit", Some(255)),
    ("application_name", Some(255)),
    ("criticality", None),
    ("business_criticality", None),
    ("migration_priority", None),
    ("migration_wave", None),
];

/// An asset as shown to users.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetView {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Option<Uuid>,
    pub discovery_flow_id: Option<Uuid>,
    pub name: String,
    pub asset_type: AssetType,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub ip_address: Option<String>,
    pub description: Option<String>,
    pub environment: Option<String>,
    pub location: Option<String>,
    pub operating_system: Option<String>,
    pub os_version: Option<String>,
    pub cpu_cores: Option<i32>,
    /// Memory in GB.
    pub memory_gb: Option<f64>,
    /// Storage in GB.
    pub storage_gb: Option<f64>,
    pub business_owner: Option<String>,
    pub technical_owner: Option<String>,
    pub department: Option<String>,
    pub business_unit: Option<String>,
    pub application_name: Option<String>,
    pub criticality: Option<CriticalityLevel>,
    pub business_criticality: Option<CriticalityLevel>,
    pub status: AssetStatus,
    /// The strategy in force: the 6R phase's recommendation, or an analyst's override.
    pub six_r_strategy: Option<SixrStrategy>,
    /// 1 (first) to 10.
    pub migration_priority: Option<i32>,
    pub migration_wave: Option<i32>,
    /// 0 to 100.
    pub completeness_score: Option<f64>,
    /// 0 to 100.
    pub quality_score: Option<f64>,
    /// Columns of the import that map to no field, by their header.
    #[schema(value_type = Object)]
    pub custom_attributes: Value,
    #[serde(serialize_with = "timestamp")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "timestamp")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A timestamp as chrono's `Serialize` writes it (RFC 3339, `Z`, the fraction's non-zero digits
/// only: the same function), but made as one string first: chrono's writes it a character at a
/// time through serde_json's escaping, about five times the cost (8% of an asset list's CPU
/// measured with callgrind, two per asset).
fn timestamp<S: serde::Serializer>(at: &chrono::DateTime<chrono::Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// The columns lists and exports read (33 of the table's 63; see [`ListRow`]) and how a row of
/// them becomes a view, from one list of the fields so that the two cannot disagree. Measured with
/// callgrind, sqlx's checks cost more than the decoding: looking each column up by name, and
/// comparing its type with the field's (enum types by name) for every value of every row. So the
/// row is read by position, and the types are checked in debug builds (the tests), where a column
/// out of place or of another type fails; in release the migrations fix the columns' types.
macro_rules! listed_columns {
    ($first:ident $(, $field:ident)* $(,)?) => {
        impl ListRow for AssetView {
            const COLUMNS: &'static str = concat!("a.", stringify!($first) $(, ", a.", stringify!($field))*);
        }

        /// A row whose first columns are [`ListRow::COLUMNS`], in that order.
        impl<'r> sqlx::FromRow<'r, PgRow> for AssetView {
            fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
                let mut columns = 0..;
                let mut column = |name: &str| {
                    let index = columns.next().unwrap_or_default();
                    debug_assert_eq!(row.columns().get(index).map(sqlx::Column::name), Some(name));
                    index
                };
                Ok(Self {
                    $first: decode(row, column(stringify!($first)))?,
                    $($field: decode(row, column(stringify!($field)))?,)*
                })
            }
        }
    };
}

/// The value of column `index`, its type checked against `T`'s in debug builds only
/// ([`listed_columns`]).
fn decode<'r, T>(row: &'r PgRow, index: usize) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    if cfg!(debug_assertions) { row.try_get(index) } else { row.try_get_unchecked(index) }
}

listed_columns!(
    id,
    engagement_id,
    master_flow_id,
    discovery_flow_id,
    name,
    asset_type,
    hostname,
    fqdn,
    ip_address,
    description,
    environment,
    location,
    operating_system,
    os_version,
    cpu_cores,
    memory_gb,
    storage_gb,
    business_owner,
    technical_owner,
    department,
    business_unit,
    application_name,
    criticality,
    business_criticality,
    status,
    six_r_strategy,
    migration_priority,
    migration_wave,
    completeness_score,
    quality_score,
    custom_attributes,
    created_at,
    updated_at,
);

impl From<Asset> for AssetView {
    fn from(a: Asset) -> Self {
        Self {
            id: a.id,
            engagement_id: a.engagement_id,
            master_flow_id: a.master_flow_id,
            discovery_flow_id: a.discovery_flow_id,
            name: a.name,
            asset_type: a.asset_type,
            hostname: a.hostname,
            fqdn: a.fqdn,
            ip_address: a.ip_address,
            description: a.description,
            environment: a.environment,
            location: a.location,
            operating_system: a.operating_system,
            os_version: a.os_version,
            cpu_cores: a.cpu_cores,
            memory_gb: a.memory_gb,
            storage_gb: a.storage_gb,
            business_owner: a.business_owner,
            technical_owner: a.technical_owner,
            department: a.department,
            business_unit: a.business_unit,
            application_name: a.application_name,
            criticality: a.criticality,
            business_criticality: a.business_criticality,
            status: a.status,
            six_r_strategy: a.six_r_strategy,
            migration_priority: a.migration_priority,
            migration_wave: a.migration_wave,
            completeness_score: a.completeness_score,
            quality_score: a.quality_score,
            custom_attributes: a.custom_attributes,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// Which assets, in which order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetQuery {
    pub filter: AssetFilter,
    pub sort: AssetSort,
    pub order: SortOrder,
}

/// One page of assets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssetPage {
    pub assets: Vec<AssetView>,
    /// How many assets match the filters (all pages).
    pub total: i64,
    /// Pass as `cursor` (with the same filters and sort) for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// The largest page a listing gives.
pub const MAX_PAGE: i64 = 1000;

/// What an opaque cursor holds: the sort it was made for and where the page ends.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    sort: AssetSort,
    order: SortOrder,
    #[serde(flatten)]
    key: AssetKey,
}

fn encode_cursor(query: &AssetQuery, last: &ListedAsset<AssetView>) -> String {
    let cursor = Cursor {
        sort: query.sort,
        order: query.order,
        key: AssetKey { value: last.sort_value.clone(), id: last.asset.id },
    };
    // Serialising plain data to JSON cannot fail.
    hex::encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

fn decode_cursor(query: &AssetQuery, cursor: &str) -> Result<AssetKey, ServiceError> {
    let invalid = || ServiceError::invalid("cursor", "is not a cursor this listing gave");
    let bytes = hex::decode(cursor).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if (cursor.sort, cursor.order) != (query.sort, query.order) {
        return Err(ServiceError::invalid("cursor", "was made for another sort; start again without a cursor"));
    }
    Ok(cursor.key)
}

/// Assets of an engagement (viewer) matching the query: `limit` (1 to [`MAX_PAGE`]) after the
/// `cursor` a previous page gave, and how many match in all.
pub async fn list_assets(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    query: &AssetQuery,
    cursor: Option<&str>,
    limit: i64,
) -> Result<AssetPage, ServiceError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::invalid("limit", format!("must be 1 to {MAX_PAGE}")));
    }
    check_filter(&query.filter)?;
    let after = cursor.map(|c| decode_cursor(query, c)).transpose()?;
    let mut conn = connection(pool).await?;
    let (mut tx, _) = engagement_tx(&mut conn, actor, account, engagement).await?;
    let mut assets = assets_repo::list_asset_rows::<AssetView>(
        &mut tx,
        &query.filter,
        query.sort,
        query.order,
        after.as_ref(),
        limit + 1,
    )
    .await?;
    let total = assets_repo::count_assets(&mut tx, &query.filter).await?;
    tx.commit().await?;
    let more = assets.len() as i64 > limit;
    assets.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more { assets.last().map(|last| encode_cursor(query, last)) } else { None };
    Ok(AssetPage { assets: assets.into_iter().map(|a| a.asset).collect(), total, next_cursor })
}

/// Refuses text filters PostgreSQL cannot hold (a NUL character), naming the filter.
fn check_filter(filter: &AssetFilter) -> Result<(), ServiceError> {
    let texts = [
        ("environment", &filter.environment),
        ("operating_system", &filter.operating_system),
        ("search", &filter.search),
    ];
    match texts.iter().find(|(_, value)| value.as_deref().is_some_and(|v| v.contains('\0'))) {
        Some((field, _)) => Err(ServiceError::invalid(field, "must not contain a NUL character")),
        None => Ok(()),
    }
}

/// The asset `asset_id` of the engagement: NotFound when it is not one of its assets.
pub(crate) async fn asset_of_engagement(tx: &mut TenantTx<'_>, asset_id: Uuid) -> Result<Asset, ServiceError> {
    table::get::<Asset>(tx, asset_id).await.map_err(|error| match error {
        RepoError::NotFound { .. } => ServiceError::not_found("asset", asset_id),
        other => other.into(),
    })
}

/// One asset of an engagement (viewer).
pub async fn get_asset(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    asset_id: Uuid,
) -> Result<AssetView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (mut tx, _) = engagement_tx(&mut conn, actor, account, engagement).await?;
    let asset = asset_of_engagement(&mut tx, asset_id).await?;
    tx.commit().await?;
    Ok(asset.into())
}

/// Checks `changes` (field → new value, null clears an optional field) against
/// [`EDITABLE_FIELDS`]: Invalid names the first field that is not editable or whose value does
/// not fit it.
pub fn parse_changes(changes: &Map<String, Value>) -> Result<AssetPatch, ServiceError> {
    if changes.is_empty() {
        return Err(ServiceError::invalid("changes", "name at least one field to change"));
    }
    for (field, value) in changes {
        if field == "six_r_strategy" {
            return Err(ServiceError::invalid(
                field,
                "is changed by overriding the 6R recommendation, which records a reason (…/assets/{asset}/six-r/override)",
            ));
        }
        let Some((_, max_chars)) = EDITABLE_FIELDS.iter().find(|(name, _)| name == field) else {
            let editable: Vec<&str> = EDITABLE_FIELDS.iter().map(|(name, _)| *name).collect();
            return Err(ServiceError::invalid(field, format!("is not editable (editable: {})", editable.join(", "))));
        };
        if value.as_str().is_some_and(|text| text.contains('\0')) {
            return Err(ServiceError::invalid(field, "must not contain a NUL character"));
        }
        if let (Some(max), Some(text)) = (max_chars, value.as_str())
            && text.chars().count() > *max
        {
            return Err(ServiceError::invalid(field, format!("is longer than {max} characters")));
        }
        // The name is required: null would read as "unchanged" in the patch, so refuse it here.
        if field == "name" && value.as_str().is_none_or(|name| name.trim().is_empty()) {
            return Err(ServiceError::invalid(field, "must be a non-empty text"));
        }
        let single = Map::from_iter([(field.clone(), value.clone())]);
        serde_json::from_value::<AssetPatch>(Value::Object(single))
            .map_err(|e| ServiceError::invalid(field, e.to_string()))?;
    }
    serde_json::from_value(Value::Object(changes.clone())).map_err(|e| ServiceError::invalid("changes", e.to_string()))
}

/// Records what `ctx`'s user did in the tenant's audit trail (in the caller's transaction).
pub(crate) async fn audit(
    tx: &mut TenantTx<'_>,
    action_type: &str,
    resource_id: Option<Uuid>,
    reason: Option<&str>,
    details: Value,
) -> Result<AccessAuditLogEntry, ServiceError> {
    let entry = NewAccessAuditLogEntry {
        id: None,
        user_id: tx.user_id(),
        action_type: action_type.to_owned(),
        resource_type: Some("asset".into()),
        resource_id: resource_id.map(|id| id.to_string()),
        result: "success".into(),
        reason: reason.map(str::to_owned),
        ip_address: None,
        user_agent: None,
        http_method: None,
        endpoint: None,
        details: Some(details),
        created_at: None,
    };
    Ok(table::insert::<AccessAuditLogEntry>(tx, &entry).await?)
}

/// Edits an asset of the engagement (analyst): `changes` as [`parse_changes`] reads them. The
/// audit trail gets the old and new value of each field (`asset_update`).
pub async fn edit_asset(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    asset_id: Uuid,
    changes: &Map<String, Value>,
) -> Result<AssetView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Analyst, "editing an asset")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let before: AssetView = asset_of_engagement(&mut tx, asset_id).await?.into();
    let mut patch = parse_changes(changes)?;
    if let Some(user_id) = ctx.user_id() {
        patch.updated_by = Some(Some(user_id));
    }
    let after: AssetView = table::update::<Asset>(&mut tx, asset_id, &patch).await?.into();
    audit(&mut tx, "asset_update", Some(asset_id), None, json!({ "changes": field_changes(&before, &after, changes) }))
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// `{field: {"old": …, "new": …}}` for the fields named in `changes` whose value changed.
fn field_changes(before: &AssetView, after: &AssetView, changes: &Map<String, Value>) -> Map<String, Value> {
    let (old, new) =
        (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(after).unwrap_or_default());
    changes
        .keys()
        .filter(|field| old[field.as_str()] != new[field.as_str()])
        .map(|field| (field.clone(), json!({"old": old[field.as_str()], "new": new[field.as_str()]})))
        .collect()
}

/// What a bulk edit did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkEditResult {
    /// Assets matching the filter.
    pub matched: i64,
    /// Assets whose values changed (those already holding the new values are left alone).
    pub changed: u64,
}

/// Edits every asset of the engagement matching `filter` (analyst; read by
/// [`AssetFilter::strict`]: an unknown filter is Invalid, never ignored), in one transaction: all
/// or none. `changes` as [`parse_changes`] reads them. The audit trail gets one `asset_bulk_update`
/// entry with the filter, the changes and the count.
pub async fn bulk_edit_assets(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    filter: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<BulkEditResult, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Analyst, "editing assets")?;
    let filter = &AssetFilter::strict(filter)?;
    check_filter(filter)?;
    let patch = parse_changes(changes)?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let matched = assets_repo::count_assets(&mut tx, filter).await?;
    let changed = assets_repo::update_assets(&mut tx, filter, &patch).await?;
    audit(&mut tx, "asset_bulk_update", None, None, json!({"filter": filter, "changes": changes, "changed": changed}))
        .await?;
    tx.commit().await?;
    Ok(BulkEditResult { matched, changed })
}

/// The columns of an export, in order (a subset of [`AssetView`], by its field names).
pub const EXPORT_COLUMNS: [&str; 26] = [
    "id",
    "name",
    "asset_type",
    "hostname",
    "fqdn",
    "ip_address",
    "environment",
    "operating_system",
    "os_version",
    "cpu_cores",
    "memory_gb",
    "storage_gb",
    "criticality",
    "business_criticality",
    "status",
    "six_r_strategy",
    "migration_priority",
    "migration_wave",
    "application_name",
    "business_owner",
    "technical_owner",
    "department",
    "business_unit",
    "location",
    "description",
    "updated_at",
];

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportCell {
    Empty,
    Number(f64),
    Text(String),
}

impl ExportCell {
    /// The cell as CSV text. Text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
    /// gets a leading `'`, so a spreadsheet opening the file shows it instead of running it as a
    /// formula (OWASP's advice on CSV injection); numbers are written as they are.
    pub fn csv_text(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Number(n) => n.to_string(),
            Self::Text(t) if t.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{t}"),
            Self::Text(t) => t.clone(),
        }
    }
}

/// The [`EXPORT_COLUMNS`] of an asset.
pub fn export_cells(asset: &AssetView) -> Vec<ExportCell> {
    let json = serde_json::to_value(asset).unwrap_or_default();
    EXPORT_COLUMNS
        .iter()
        .map(|column| match &json[*column] {
            Value::Null => ExportCell::Empty,
            Value::Number(n) => n.as_f64().map_or(ExportCell::Empty, ExportCell::Number),
            Value::String(s) => ExportCell::Text(s.clone()),
            other => ExportCell::Text(other.to_string()),
        })
        .collect()
}

/// An export under way: the filtered, sorted assets read page by page, each page in a short
/// transaction of its own (keyset pages: no asset twice, none skipped for others being added),
/// so no connection is held while the client reads and the set is never in memory at once.
pub struct AssetExport {
    pool: PgPool,
    ctx: TenantCtx,
    query: AssetQuery,
    page_rows: i64,
    after: Option<AssetKey>,
    started: bool,
    done: bool,
}

/// Starts an export of the engagement's assets matching `query` (viewer), `page_rows` at a time
/// (at least 1). Access is checked here, before anything is sent.
pub async fn export_assets(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    query: AssetQuery,
    page_rows: i64,
) -> Result<AssetExport, ServiceError> {
    check_filter(&query.filter)?;
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    Ok(AssetExport {
        pool: pool.clone(),
        ctx,
        query,
        page_rows: page_rows.max(1),
        after: None,
        started: false,
        done: false,
    })
}

impl AssetExport {
    /// The next page of assets; None once all were given (or after an error).
    pub async fn next_page(&mut self) -> Result<Option<Vec<AssetView>>, ServiceError> {
        if self.done {
            return Ok(None);
        }
        let page = self.read_page().await;
        if !matches!(page, Ok(Some(_))) {
            self.done = true;
        }
        page
    }

    async fn read_page(&mut self) -> Result<Option<Vec<AssetView>>, ServiceError> {
        let mut conn = connection(&self.pool).await?;
        let mut tx = TenantTx::begin(&mut conn, &self.ctx).await?;
        let (filter, sort, order) = (&self.query.filter, self.query.sort, self.query.order);
        let after = self.after.as_ref();
        let page =
            assets_repo::list_asset_rows::<AssetView>(&mut tx, filter, sort, order, after, self.page_rows).await?;
        tx.commit().await?;
        let Some(last) = page.last() else { return Ok(None) };
        self.after = Some(AssetKey { value: last.sort_value.clone(), id: last.asset.id });
        Ok(Some(page.into_iter().map(|a| a.asset).collect()))
    }

    /// The next piece of the CSV file (UTF-8, a header line first, then one line per asset):
    /// one page of assets; None once all were given.
    pub async fn next_csv_chunk(&mut self) -> Result<Option<Vec<u8>>, ServiceError> {
        let header = !self.started;
        self.started = true;
        let page = self.next_page().await?;
        if page.is_none() && !header {
            return Ok(None);
        }
        let csv_error = |e: csv::Error| ServiceError::internal(format!("writing CSV: {e}"));
        let mut writer = csv::Writer::from_writer(Vec::new());
        if header {
            writer.write_record(EXPORT_COLUMNS).map_err(csv_error)?;
        }
        for asset in page.iter().flatten() {
            writer.write_record(export_cells(asset).iter().map(ExportCell::csv_text)).map_err(csv_error)?;
        }
        let bytes = writer.into_inner().map_err(|e| ServiceError::internal(format!("writing CSV: {e}")))?;
        Ok(Some(bytes))
    }
}

/// The most assets an XLSX export holds. The workbook is built in memory (an XLSX file is a zip
/// whose directory comes last, so it cannot be sent before it is complete; rust_xlsxwriter's
/// constant-memory mode would need temporary files): this bounds that memory (about 26 cells per
/// asset); larger sets are exported as CSV, which is streamed.
pub const MAX_XLSX_ROWS: i64 = 100_000;

/// The most characters Excel keeps in a cell; longer text is cut there.
const MAX_XLSX_TEXT: usize = 32_767;

/// The engagement's assets matching `query` as an XLSX workbook (viewer): one sheet `Assets`,
/// a bold, frozen header row with an autofilter, then one row per asset (numbers as numbers, text
/// always as text, never as a formula). Invalid (`format`) above [`MAX_XLSX_ROWS`] assets.
pub async fn export_assets_xlsx(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    query: AssetQuery,
    page_rows: i64,
) -> Result<Vec<u8>, ServiceError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut export = export_assets(pool, actor, account, engagement, query, page_rows).await?;
    let total = {
        let mut conn = connection(pool).await?;
        let mut tx = TenantTx::begin(&mut conn, &export.ctx).await?;
        let total = assets_repo::count_assets(&mut tx, &export.query.filter).await?;
        tx.commit().await?;
        total
    };
    if total > MAX_XLSX_ROWS {
        return Err(ServiceError::invalid(
            "format",
            format!("{total} assets match; an XLSX export holds at most {MAX_XLSX_ROWS}: export CSV instead"),
        ));
    }
    let xlsx_error = |e: rust_xlsxwriter::XlsxError| ServiceError::internal(format!("writing XLSX: {e}"));
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Assets").map_err(xlsx_error)?;
    let bold = Format::new().set_bold();
    for (column, name) in (0u16..).zip(EXPORT_COLUMNS) {
        sheet.write_string_with_format(0, column, name, &bold).map_err(xlsx_error)?;
    }
    let mut row: u32 = 0;
    while let Some(page) = export.next_page().await? {
        for asset in &page {
            row += 1;
            for (column, cell) in (0u16..).zip(export_cells(asset)) {
                match cell {
                    ExportCell::Empty => {}
                    ExportCell::Number(n) => {
                        sheet.write_number(row, column, n).map_err(xlsx_error)?;
                    }
                    ExportCell::Text(text) => {
                        let text: String = text.chars().take(MAX_XLSX_TEXT).collect();
                        sheet.write_string(row, column, text).map_err(xlsx_error)?;
                    }
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    let last_column = u16::try_from(EXPORT_COLUMNS.len() - 1).unwrap_or(u16::MAX);
    sheet.autofilter(0, 0, row.max(1), last_column).map_err(xlsx_error)?;
    // Compressing the workbook is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || workbook.save_to_buffer())
        .await
        .map_err(|e| ServiceError::internal(format!("writing XLSX: {e}")))?
        .map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        #[derive(Serialize)]
        struct Written(#[serde(serialize_with = "timestamp")] chrono::DateTime<chrono::Utc>);
        let base = chrono::DateTime::from_timestamp(1_764_606_653, 0).unwrap_or_default();
        for nanos in [0, 120_000_000, 123_000_000, 123_456_000, 123_456_789, 1_000, 7] {
            let at = base + chrono::Duration::nanoseconds(nanos);
            let expected = serde_json::to_string(&at).unwrap_or_default();
            assert_eq!(serde_json::to_string(&Written(at)).unwrap_or_default(), expected);
        }
    }

    /// The listing's select list is the view's fields (the API's schema), and includes every
    /// column a page may be sorted by (the page's ORDER BY reads it).
    #[test]
    fn listed_columns_are_the_fields_shown_and_cover_every_sort() {
        let columns: Vec<&str> = AssetView::COLUMNS.split(',').map(str::trim).collect();
        let schema = serde_json::to_value(<AssetView as utoipa::PartialSchema>::schema()).unwrap_or_default();
        let mut fields: Vec<String> =
            schema["properties"].as_object().into_iter().flatten().map(|(name, _)| format!("a.{name}")).collect();
        let mut listed: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        fields.sort();
        listed.sort();
        assert!(!fields.is_empty());
        assert_eq!(listed, fields);
        for sort in AssetSort::ALL {
            assert!(columns.contains(&sort.column().0), "{sort:?}");
        }
    }
}
