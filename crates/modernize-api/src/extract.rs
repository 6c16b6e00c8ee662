//! `Path` and `Query` as axum's, but refusing with an [`ApiError`] that names the parameter at
//! fault (`field`), so a client learns which of its path ids or query parameters did not parse.
//! The mapping of axum's rejections is [`crate::error::path_rejection`] and
//! [`crate::error::query_rejection`].

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{self, ApiError};

/// The path parameters, as `axum::extract::Path`; 400 naming the parameter that does not parse.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => {
                // Tuples and single values are refused by position: the route's names tell which.
                let names = match RawPathParams::from_request_parts(parts, state).await {
                    Ok(params) => params.iter().map(|(name, _)| name.to_owned()).collect(),
                    Err(_) => Vec::new(),
                };
                Err(error::path_rejection(rejection, &names))
            }
        }
    }
}

/// The query string, as `axum::extract::Query`; 400 naming the parameter that does not parse.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(error::query_rejection(rejection)),
        }
    }
}
