//! The attention maps of one input: every layer's and head's weights over the
//! positions of the encoder pass an objective reads, from a model exported with
//! `xp export --onnx --attention`.

use crate::encode::Tokenizer;
use crate::model::OnnxModel;
use crate::predict::{classify, Scored};
use crate::ServeError;
use serde::Serialize;

/// Where a pair input is cut when it names no cut: `A|B`.
pub const PAIR_MARK: char = '|';

/// The attention maps of one input.
#[derive(Debug, Clone, Serialize)]
pub struct AttentionMaps {
    /// The input as given.
    pub input: String,
    /// The objective whose encoder pass was read.
    pub objective: String,
    /// The token at each position (`[CLS]`, characters, `[SEP]`).
    pub tokens: Vec<String>,
    /// Number of layers.
    pub layers: usize,
    /// Heads per layer.
    pub heads: usize,
    /// `maps[layer][head][query][key]`: how much the query position attends to the key.
    pub maps: Vec<Vec<Vec<Vec<f32>>>>,
    /// The model's most probable class for the input, when it classifies and the input
    /// is a single name: by the objective whose pass was read when that one classifies
    /// names, else by the model's first objective that does.
    pub prediction: Option<Scored>,
    /// The objective that gave [`AttentionMaps::prediction`].
    pub predicted_by: Option<String>,
}

/// The attention maps of `input` in the encoder pass of `objective`. Pair objectives
/// (NSP, SOP) read `A|B` as `[CLS] A [SEP] B` (without a `|`, the name is cut in
/// half); causal ones (LA) read the characters alone.
pub fn attention(
    model: &mut OnnxModel,
    objective: &str,
    input: &str,
) -> Result<AttentionMaps, ServeError> {
    let (name, served) = model.objective(objective)?;
    let output = served.attention.clone().ok_or_else(|| {
        ServeError::Input(
            "the model was exported without attention maps; export it again with `xp export --onnx RUN_DIR --attention`"
                .into(),
        )
    })?;
    let tokenizer = Tokenizer::new(&model.info)?;
    let (ids, segments) = if served.segments {
        pair_row(&tokenizer, input)?
    } else {
        let mut ids = Vec::new();
        if served.cls_first {
            ids.push(tokenizer.cls);
        }
        ids.extend(tokenizer.encode(input, false)?);
        (ids, None)
    };
    let seq = ids.len();
    let tokens = ids
        .iter()
        .map(|&i| tokenizer.token(i as usize).to_owned())
        .collect();
    let result = model.run(&output, ids, 1, segments)?;
    let [layers, 1, heads, rows, cols] = result.shape[..] else {
        return Err(ServeError::Model(format!(
            "the model's {output} has shape {:?}, not (layers, 1, heads, {seq}, {seq})",
            result.shape
        )));
    };
    let maps = result
        .values
        .chunks(rows * cols)
        .map(|head| head.chunks(cols).map(<[f32]>::to_vec).collect())
        .collect::<Vec<Vec<Vec<f32>>>>()
        .chunks(heads)
        .map(<[Vec<Vec<f32>>]>::to_vec)
        .collect();
    let (prediction, predicted_by) = match predict(model, &name, input) {
        Some((scored, by)) => (Some(scored), Some(by)),
        None => (None, None),
    };
    Ok(AttentionMaps {
        input: input.to_owned(),
        objective: name,
        tokens,
        layers,
        heads,
        maps,
        prediction,
        predicted_by,
    })
}

/// `[CLS] A [SEP] B` and its segment ids (0 up to `[SEP]`, 1 after), from `A|B` or
/// the name cut in half.
fn pair_row(
    tokenizer: &Tokenizer,
    input: &str,
) -> Result<(Vec<i64>, Option<Vec<i64>>), ServeError> {
    let (a, b) = match input.split_once(PAIR_MARK) {
        Some((a, b)) => (tokenizer.encode(a, false)?, tokenizer.encode(b, false)?),
        None => {
            let whole = tokenizer.encode(input, false)?;
            if whole.len() < 2 {
                return Err(ServeError::Input(format!(
                    "{input:?}: a pair objective needs two parts; give a name of two characters or more, or `A{PAIR_MARK}B`"
                )));
            }
            let (a, b) = whole.split_at(whole.len() / 2);
            (a.to_vec(), b.to_vec())
        }
    };
    let mut ids = vec![tokenizer.cls];
    ids.extend(&a);
    ids.push(tokenizer.sep);
    let first = ids.len();
    ids.extend(&b);
    let segments = (0..ids.len()).map(|i| i64::from(i >= first)).collect();
    Ok((ids, Some(segments)))
}

/// The most probable class of `input` and the objective that gave it: `attended` when
/// it classifies single names, else the model's first objective that does; `None`
/// when none does.
fn predict(model: &mut OnnxModel, attended: &str, input: &str) -> Option<(Scored, String)> {
    let classifies =
        |o: &xp_format::ServedObjective| o.classes.is_some() && !o.segments && !o.causal;
    let objectives = &model.info.objectives;
    let objective = objectives
        .iter()
        .find(|(name, o)| *name == attended && classifies(o))
        .or_else(|| objectives.iter().find(|(_, o)| classifies(o)))
        .map(|(name, _)| name.clone())?;
    let name = input.replace(PAIR_MARK, "");
    let answers = classify(model, &objective, &[name], 1, 1).ok()?;
    let top = answers.into_iter().next()?.ok()?.top.into_iter().next()?;
    Some((top, objective))
}
