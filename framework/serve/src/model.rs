//! An exported xp model in an ONNX Runtime session, with the metadata it carries.

use crate::{lanes, runtime, ServeError};
use ort::session::Session;
use ort::value::Tensor;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use xp_format::{ModelMetadata, ServedObjective};

/// What the exported model says of itself (its `xp.*` metadata).
pub type ModelInfo = ModelMetadata;

/// Logits of one output: shape and row-major values.
#[derive(Debug, Clone)]
pub struct Logits {
    /// `[batch, classes]` or `[batch, seq, vocab]`.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// A loaded model: its metadata, and sessions per output asked for, each holding only
/// what that output needs ([`crate::prune`]): one on every core, and for large
/// batches one per lane ([`crate::lanes`]).
pub struct OnnxModel {
    bytes: Arc<Vec<u8>>,
    origin: String,
    /// The sessions of an output for a number of lanes.
    sessions: HashMap<(String, usize), Vec<Session>>,
    threads: usize,
    /// Its metadata.
    pub info: ModelInfo,
}

impl OnnxModel {
    /// Loads `path`, checking that it is an xp model.
    pub fn load(path: &Path) -> Result<Self, ServeError> {
        if !path.is_file() {
            return Err(ServeError::Model(format!(
                "{} does not exist; export a run first with `xp export --onnx RUN_DIR`",
                path.display()
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| ServeError::Model(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Loads a model from the bytes of an ONNX file (`origin` names it in errors).
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, ServeError> {
        let env = runtime::environment()?;
        let session = Session::builder(env)
            .and_then(|mut b| b.commit_from_memory(bytes))
            .map_err(|e| {
                ServeError::Model(format!(
                    "{origin} is not a valid ONNX model: {e}; export it again with `xp export --onnx`"
                ))
            })?;
        let info = read_info(&session).map_err(|e| {
            ServeError::Model(format!(
                "{origin} is not a model exported by xp ({e}); export one with `xp export --onnx`"
            ))
        })?;
        Ok(Self {
            bytes: Arc::new(bytes.to_vec()),
            origin: origin.to_owned(),
            sessions: HashMap::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            info,
        })
    }

    /// Another model over the same file: sessions of its own, no file read or check.
    pub fn share(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            origin: self.origin.clone(),
            sessions: HashMap::new(),
            threads: self.threads,
            info: self.info.clone(),
        }
    }

    /// This model with sessions that compute on `threads` threads (default: the
    /// cores); sessions made before keep theirs. A pool of sessions that run at once
    /// shares the cores out.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The `lanes` sessions of `output`, made on first use from the model cut down to
    /// it, the cores shared out among them.
    fn sessions(&mut self, output: &str, lanes: usize) -> Result<&mut [Session], ServeError> {
        let key = (output.to_owned(), lanes);
        if !self.sessions.contains_key(&key) {
            let pruned = crate::prune::only_output(&self.bytes, output)?;
            let made = lanes::lane_threads(self.threads, lanes)
                .into_iter()
                .map(|threads| self.session(&pruned, output, threads))
                .collect::<Result<_, _>>()?;
            self.sessions.insert(key.clone(), made);
        }
        Ok(self
            .sessions
            .get_mut(&key)
            .map_or(&mut [][..], |s| &mut s[..]))
    }

    /// A session of the `pruned` model on `threads` threads.
    fn session(&self, pruned: &[u8], output: &str, threads: usize) -> Result<Session, ServeError> {
        let env = runtime::environment()?;
        // Workers that sleep when idle: spinning ones slow every other process on a
        // small machine. ONNX Runtime's fused `SkipLayerNormalization` (residual add and
        // layer norm) is slower on CPU than the two operators it replaces
        // (docs/performance.md, "Serving").
        Session::builder(env)
            .and_then(|b| b.with_intra_threads(threads).map_err(ort::Error::from))
            .and_then(|b| b.with_intra_op_spinning(false).map_err(ort::Error::from))
            .and_then(|b| {
                b.with_disabled_optimizers("SkipLayerNormFusion")
                    .map_err(ort::Error::from)
            })
            .and_then(|mut b| b.commit_from_memory(pruned))
            .map_err(|e| {
                ServeError::Model(format!(
                    "{}: cannot load its {output} part: {e}",
                    self.origin
                ))
            })
    }

    /// The objective served when none is named: the first class objective of single
    /// texts (`CLS`).
    pub fn default_objective(&self) -> Result<String, ServeError> {
        self.info
            .objectives
            .iter()
            .find(|(_, o)| o.classes.is_some() && !o.segments)
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                ServeError::Input(
                    "the model has no class objective; choose one with --objective".into(),
                )
            })
    }

    /// The exported objective `name` (case-insensitive), or an error listing them.
    pub fn objective(&self, name: &str) -> Result<(String, ServedObjective), ServeError> {
        self.info
            .objectives
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .ok_or_else(|| {
                let have: Vec<&str> = self.info.objectives.keys().map(String::as_str).collect();
                ServeError::Input(format!(
                    "the model has no objective {name}; it has {}",
                    have.join(", ")
                ))
            })
    }

    /// Runs the model on `tokens` `(batch, seq)` (and `segments` if the model reads
    /// them; zeros otherwise) and returns output `output`. A large batch of an
    /// objective's output runs on several lanes at once ([`crate::lanes`]); the output
    /// is the same.
    pub fn run(
        &mut self,
        output: &str,
        tokens: Vec<i64>,
        batch: usize,
        segments: Option<Vec<i64>>,
    ) -> Result<Logits, ServeError> {
        let seq = tokens.len() / batch.max(1);
        // Objectives' outputs lead with the batch axis; attention weights lead with the
        // layers and run whole.
        let leads_with_batch = self.info.objectives.values().any(|o| o.output == output);
        let lanes = if leads_with_batch {
            lanes::lane_count(self.threads, batch, seq)
        } else {
            1
        };
        let sessions = self.sessions(output, lanes)?;
        let reads_segments = sessions
            .first()
            .is_some_and(|s| s.inputs().iter().any(|i| i.name() == "segments"));
        let segments = reads_segments.then(|| segments.unwrap_or_else(|| vec![0; batch * seq]));
        if let [session] = sessions {
            return run_session(session, output, tokens, segments, seq);
        }
        let parts = lanes::lane_rows(batch, sessions.len());
        let results: Vec<Result<Logits, ServeError>> = std::thread::scope(|scope| {
            let running: Vec<_> = sessions
                .iter_mut()
                .zip(parts)
                .map(|(session, rows)| {
                    let cells = rows.start * seq..rows.end * seq;
                    let tokens = tokens[cells.clone()].to_vec();
                    let segments = segments.as_ref().map(|s| s[cells].to_vec());
                    scope.spawn(move || run_session(session, output, tokens, segments, seq))
                })
                .collect();
            running
                .into_iter()
                .map(|lane| {
                    lane.join().unwrap_or_else(|_| {
                        Err(ServeError::Runtime("an ONNX Runtime lane failed".into()))
                    })
                })
                .collect()
        });
        joined(results)
    }
}

/// Runs `session` on `tokens` (rows of `seq`) and `segments` when it reads them.
fn run_session(
    session: &mut Session,
    output: &str,
    tokens: Vec<i64>,
    segments: Option<Vec<i64>>,
    seq: usize,
) -> Result<Logits, ServeError> {
    let shape = vec![(tokens.len() / seq.max(1)) as i64, seq as i64];
    let mut inputs = vec![("tokens".to_owned(), tensor(&shape, tokens)?)];
    if let Some(segments) = segments {
        inputs.push(("segments".to_owned(), tensor(&shape, segments)?));
    }
    let outputs = session.run(inputs).map_err(runtime_error)?;
    let value = outputs
        .get(output)
        .ok_or_else(|| ServeError::Model(format!("the model has no output {output}")))?;
    let (shape, values) = value.try_extract_tensor::<f32>().map_err(runtime_error)?;
    Ok(Logits {
        shape: shape.iter().map(|&d| d as usize).collect(),
        values: values.to_vec(),
    })
}

/// The lanes' outputs as one, rows in order.
fn joined(parts: Vec<Result<Logits, ServeError>>) -> Result<Logits, ServeError> {
    let mut all: Option<Logits> = None;
    for part in parts {
        let part = part?;
        match &mut all {
            None => all = Some(part),
            Some(all) => {
                all.shape[0] += part.shape[0];
                all.values.extend(part.values);
            }
        }
    }
    all.ok_or_else(|| ServeError::Runtime("no lane ran".into()))
}

fn tensor(
    shape: &[i64],
    values: Vec<i64>,
) -> Result<ort::session::SessionInputValue<'static>, ServeError> {
    Ok(Tensor::from_array((shape.to_vec(), values))
        .map_err(runtime_error)?
        .into())
}

fn runtime_error(e: ort::Error) -> ServeError {
    ServeError::Runtime(format!("ONNX Runtime failed: {e}"))
}

fn read_info(session: &Session) -> Result<ModelInfo, String> {
    let meta = session.metadata().map_err(|e| e.to_string())?;
    ModelMetadata::from_lookup(|key| meta.custom(key)).map_err(|e| e.to_string())
}
