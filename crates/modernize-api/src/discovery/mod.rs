//! Discovery over HTTP: imports (streamed uploads), master and discovery flows with their
//! lifecycle and live progress (Server-Sent Events), field mappings and import issues. Every route sits under an engagement:
//! `/api/v1/client-accounts/{account}/engagements/{engagement}/…` (id or slug); a flow or import
//! of another engagement or account is 404.

pub mod flows;
pub mod imports;
pub mod issues;
pub mod legacy;
pub mod mappings;
pub(crate) mod upload;

use modernize::repo::Page;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

/// The tenant in the path: client account and engagement, each an id or a slug.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// Client account id or slug.
    pub account: String,
    /// Engagement id or slug.
    pub engagement: String,
}

/// Paging of a list: `limit` rows (1 to 500, default 50) from `offset` (default 0).
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0); a page's `next_offset` gives the next one.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl PageQuery {
    pub const MAX_LIMIT: i64 = 500;

    pub fn page(self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", format!("{limit} is not in 1..={}", Self::MAX_LIMIT)));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::invalid("offset", format!("{offset} is negative")));
        }
        Ok(Page { limit, offset })
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(imports::routes())
        .merge(flows::routes())
        .merge(mappings::routes())
        .merge(issues::routes())
        .merge(legacy::routes())
}
