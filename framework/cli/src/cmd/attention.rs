//! `xp attention RUN_OR_MODEL NAME...`: one PNG per name, every layer's and head's
//! attention map (a grid, layers down, heads across), the tokens as tick labels, a
//! colour bar, and the predicted language in the title.

use crate::model_source::ModelSource;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use xp_serve::attention::{attention, AttentionMaps};
use xp_serve::OnnxModel;

/// `xp attention`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run folder (exported in memory) or a model exported with --attention.
    model: PathBuf,
    /// Names to draw; pair objectives read `A|B` (or the name cut in half).
    #[arg(required = true)]
    names: Vec<String>,
    /// Whose encoder pass to read: cls, mlm (bidirectional), la (causal), nsp or
    /// sop (pairs).
    #[arg(long, default_value = "cls")]
    objective: String,
    /// Folder of the figures (default: RUN/attention, or ./attention for a model).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `xp attention`.
pub fn run(args: Args) -> Result<()> {
    let (names, objective) = (&args.names, args.objective.as_str());
    let (mut model, default_out) = load(&args.model)?;
    let out = args.out.unwrap_or(default_out);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut failed = 0;
    for name in names {
        let drawn = attention(&mut model, objective, name)
            .map_err(anyhow::Error::from)
            .and_then(|maps| {
                let path = out.join(format!("attention_{}.png", file_stem(name)));
                figure(&path, &maps)
                    .map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", path.display()))?;
                Ok((path, maps))
            });
        match drawn {
            Ok((path, maps)) => {
                let said = match (&maps.prediction, &maps.predicted_by) {
                    (Some(p), Some(by)) => format!(" ({by}: {} {:.2})", p.label, p.probability),
                    _ => String::new(),
                };
                println!("{name}{said}: {}", path.display());
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {name:?}: {e:#}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} of {} names not drawn", names.len());
    Ok(())
}

/// The model at `source` and where its figures go by default: `RUN/attention` for a
/// run, `./attention` for a file.
fn load(source: &Path) -> Result<(OnnxModel, PathBuf)> {
    let model = ModelSource::at(source)?;
    let out = match &model {
        ModelSource::Run(..) => xp_framework::run::RunFiles::at(source).attention(),
        ModelSource::File(_) => PathBuf::from("attention"),
    };
    Ok((model.open()?, out))
}

/// `name` as a file name: letters and digits kept, the rest `_`.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    if stem.is_empty() {
        "name".to_owned()
    } else {
        stem
    }
}

/// The figure of `maps`, titled with the text, what the model predicts of it, and
/// whose encoder pass it is.
fn figure(path: &Path, maps: &AttentionMaps) -> xp_figures::Drawn {
    let title = match (&maps.prediction, &maps.predicted_by) {
        (Some(p), Some(by)) => format!(
            "{:?}: {by} says {} ({:.0}%); {} pass",
            maps.input,
            p.label,
            p.probability * 100.0,
            maps.objective
        ),
        _ => format!("{:?}: {} pass", maps.input, maps.objective),
    };
    xp_framework::run::draw(path, |p| {
        xp_figures::attention_grid(p, &title, &maps.tokens, &maps.maps)
    })
}
