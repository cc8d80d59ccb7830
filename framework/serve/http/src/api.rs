//! The routes and their JSON.

use crate::{page, ApiError, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use xp_format::ServedObjective;
use xp_serve::attention::attention;
use xp_serve::encode::MASK_MARK;
use xp_serve::predict::{fill_masks, sample, Sampling};

/// Every route, with the body limit.
pub fn routes(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/model", get(model))
        .route("/api/classify", post(classify))
        .route("/api/fill", post(fill))
        .route("/api/generate", post(generate))
        .route("/api/attention", post(attention_maps))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            limit,
            announced_length,
        ))
        .with_state(state)
}

/// Refuses a body whose announced length is over `limit` before reading any of it
/// (the body limit alone would wait for the bytes).
async fn announced_length(
    State(limit): State<usize>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match announced {
        Some(length) if length > limit => ApiError {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "the body is {length} bytes; the server takes at most {limit} (its --max-body): send fewer names"
            ),
        }
        .into_response(),
        _ => next.run(request).await,
    }
}

/// A JSON body whose rejections are API errors that say what to send.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(&rejection)),
        }
    }
}

fn rejected(rejection: &JsonRejection) -> ApiError {
    let hint = match rejection {
        JsonRejection::JsonSyntaxError(_) => "send a JSON object, e.g. {\"names\": [\"Nakamura\"]}",
        JsonRejection::JsonDataError(_) => {
            "see GET /api/model and the API's documentation for the fields"
        }
        JsonRejection::MissingJsonContentType(_) => {
            "send the header Content-Type: application/json"
        }
        _ => "send a smaller body (the server's --max-body)",
    };
    ApiError {
        status: rejection.status(),
        message: format!("{}; {hint}", rejection.body_text()),
    }
}

async fn not_found() -> ApiError {
    ApiError {
        status: axum::http::StatusCode::NOT_FOUND,
        message: "no such route; the API has GET /api/model, POST /api/classify, /api/fill, /api/generate and /api/attention".into(),
    }
}

/// The exported objective that does `kind`, named or the first that fits.
fn objective(
    state: &AppState,
    named: Option<&str>,
    kind: &str,
    fits: impl Fn(&ServedObjective) -> bool,
) -> Result<String, ApiError> {
    let objectives = &state.pool.info.objectives;
    match named {
        Some(name) => objectives
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                let have: Vec<&str> = objectives.keys().map(String::as_str).collect();
                ApiError::bad(format!(
                    "the model has no objective {name}; it has {}",
                    have.join(", ")
                ))
            }),
        None => objectives
            .iter()
            .find(|(_, o)| fits(o))
            .map(|(name, _)| name.clone())
            .ok_or_else(|| ApiError::bad(format!("the model has no objective that can {kind}"))),
    }
}

fn single(o: &ServedObjective) -> bool {
    !o.causal && !o.segments
}

async fn model(State(state): State<AppState>) -> Json<Value> {
    let info = &state.pool.info;
    Json(json!({
        "experiment": info.experiment,
        "experiment_toml": info.experiment_toml,
        "vocab": info.vocab,
        "specials": info.specials,
        "labels": info.labels,
        "min_len": info.min_len,
        "max_len": info.max_len,
        "readable_len": info.readable_len,
        "folding": info.folding,
        "objectives": info.objectives,
        "weights_sha256": info.weights_sha256,
        "limits": {
            "max_body_bytes": state.limits.max_body_bytes,
            "max_names": state.limits.max_names,
            "max_generate": state.limits.max_generate,
        },
    }))
}

/// `POST /api/classify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    /// Names to classify.
    pub names: Vec<String>,
    /// Classes per name.
    #[serde(default = "three")]
    pub k: usize,
    /// A class objective (default: the first that reads single names).
    pub objective: Option<String>,
}

fn three() -> usize {
    3
}

/// One name's answer: its classes, or why it has none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum NameAnswer {
    Classified(xp_serve::predict::Classified),
    Failed { name: String, error: String },
}

async fn classify(
    State(state): State<AppState>,
    Body(req): Body<ClassifyRequest>,
) -> Result<Json<Value>, ApiError> {
    if req.names.is_empty() {
        return Err(ApiError::bad(
            "give at least one name: {\"names\": [\"Nakamura\"]}",
        ));
    }
    if req.names.len() > state.limits.max_names {
        return Err(ApiError::bad(format!(
            "{} names in one request; send at most {} (the server's --max-names)",
            req.names.len(),
            state.limits.max_names
        )));
    }
    let k = req.k.clamp(1, state.pool.info.labels.len().max(1));
    let name = objective(&state, req.objective.as_deref(), "classify names", |o| {
        o.classes.is_some() && single(o)
    })?;
    let answers = state
        .batcher
        .classify(name.clone(), req.names.clone(), k)
        .await?;
    let results: Vec<NameAnswer> = answers
        .into_iter()
        .zip(req.names)
        .map(|(answer, name)| match answer {
            Ok(c) => NameAnswer::Classified(c),
            Err(e) => NameAnswer::Failed {
                name,
                error: e.to_string(),
            },
        })
        .collect();
    Ok(Json(json!({ "objective": name, "results": results })))
}

/// `POST /api/fill`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FillRequest {
    /// A name with `_` or `[MASK]` where characters are missing.
    pub name: String,
    /// Candidates per position.
    #[serde(default = "five")]
    pub k: usize,
    /// A masked-character objective (default: the first).
    pub objective: Option<String>,
}

fn five() -> usize {
    5
}

async fn fill(
    State(state): State<AppState>,
    Body(req): Body<FillRequest>,
) -> Result<Json<Value>, ApiError> {
    let input = req.name.replace('_', MASK_MARK);
    let given = req.name.clone();
    if !input.contains(MASK_MARK) {
        return Err(ApiError::bad(format!(
            "{:?} has nothing to fill; mark missing characters with _ or [MASK], e.g. Na_amura",
            req.name
        )));
    }
    let name = objective(
        &state,
        req.objective.as_deref(),
        "fill masked characters",
        |o| o.classes.is_none() && single(o),
    )?;
    let k = req.k.clamp(1, 20);
    let mut answers = state
        .pool
        .run(move |model| fill_masks(model, &name, &[input], k))
        .await??;
    let mut filled = answers
        .pop()
        .ok_or_else(|| ApiError::internal("no answer"))??;
    filled.input = given;
    Ok(Json(json!(filled)))
}

/// `POST /api/generate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// The start of every name (default: a random capital).
    pub prefix: Option<String>,
    /// How many names.
    #[serde(default = "five")]
    pub count: usize,
    /// Softmax temperature, above 0.
    #[serde(default = "one")]
    pub temperature: f32,
    /// Random seed (the same seed gives the same names).
    #[serde(default)]
    pub seed: u64,
    /// Length of each name (default: drawn between the corpus's bounds).
    pub length: Option<usize>,
    /// A causal objective (default: the first).
    pub objective: Option<String>,
}

fn one() -> f32 {
    1.0
}

async fn generate(
    State(state): State<AppState>,
    Body(req): Body<GenerateRequest>,
) -> Result<Json<Value>, ApiError> {
    if req.count == 0 || req.count > state.limits.max_generate {
        return Err(ApiError::bad(format!(
            "count {} is outside 1..={} (the server's --max-generate)",
            req.count, state.limits.max_generate
        )));
    }
    let name = objective(&state, req.objective.as_deref(), "generate names", |o| {
        o.causal
    })?;
    let sampling = Sampling {
        count: req.count,
        temperature: req.temperature,
        seed: req.seed,
        prefix: req.prefix.filter(|p| !p.is_empty()),
        length: req.length,
    };
    let names = state
        .pool
        .run(move |model| sample(model, &name, &sampling))
        .await??;
    Ok(Json(json!({ "names": names })))
}

/// `POST /api/attention`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionRequest {
    /// A name (`A|B` for pair objectives).
    pub name: String,
    /// Whose encoder pass (default: the first that reads single names).
    pub objective: Option<String>,
}

async fn attention_maps(
    State(state): State<AppState>,
    Body(req): Body<AttentionRequest>,
) -> Result<Json<Value>, ApiError> {
    let name = objective(
        &state,
        req.objective.as_deref(),
        "read single names",
        single,
    )?;
    let maps = state
        .pool
        .run(move |model| attention(model, &name, &req.name))
        .await??;
    Ok(Json(json!(maps)))
}
