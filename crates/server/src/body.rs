//! What handlers take from a request before they run: the admin's bearer token, then the body.
//! Extractors run in the order of a handler's arguments and stop at the first that refuses, so
//! `Admin` before `Body` means a wrong token is a 401 whatever the body holds.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON object body read as `T`. serde would also read a struct from an array, field by
/// position (`["x@example.com","closed"]` as an email and a status); the contract publishes
/// objects, so anything else is refused.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Size, content type and syntax errors are the JSON configuration's (app.rs).
        let json = web::Json::<serde_json::Value>::from_request(request, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(ApiError::malformed("the body must be a JSON object").into());
            }
            serde_json::from_value(value).map(Body).map_err(|error| {
                ApiError::malformed(format!("the body does not match the request type: {error}"))
                    .into()
            })
        })
    }
}

/// A request that carries the admin's bearer token.
#[derive(Debug)]
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = match request.app_data::<web::Data<AppState>>() {
            Some(state) => crate::admin::authorize(state, request).map(|()| Admin),
            None => Err(ApiError::internal()),
        };
        std::future::ready(outcome)
    }
}
