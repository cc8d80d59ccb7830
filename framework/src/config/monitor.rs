//! `train.monitor`: the validation figure that picks the best checkpoint and drives
//! early stopping.

/// What `train.monitor` names.
#[derive(Debug, Clone, PartialEq)]
pub enum Monitor {
    /// The weighted total validation loss (`"loss"`, the default).
    TotalLoss,
    /// One objective's validation loss (`"CLS.loss"`).
    Loss(String),
    /// One objective's validation accuracy (`"CLS.accuracy"`), higher is better.
    Accuracy(String),
}

impl Monitor {
    /// Parses `text` against the experiment's objective names.
    pub fn parse(text: &str, objectives: &[&str]) -> Result<Self, String> {
        let options = || {
            let mut all = vec!["\"loss\"".to_owned()];
            for o in objectives {
                all.push(format!("\"{o}.loss\""));
                all.push(format!("\"{o}.accuracy\""));
            }
            all.join(", ")
        };
        if text == "loss" {
            return Ok(Self::TotalLoss);
        }
        let Some((objective, metric)) = text.rsplit_once('.') else {
            return Err(format!(
                "unknown monitor `{text}`: use one of {}",
                options()
            ));
        };
        if !objectives.contains(&objective) {
            return Err(format!(
                "`{text}` names objective `{objective}`, which this experiment does not train: use one of {}",
                options()
            ));
        }
        match metric {
            "loss" => Ok(Self::Loss(objective.to_owned())),
            "accuracy" => Ok(Self::Accuracy(objective.to_owned())),
            _ => Err(format!(
                "unknown metric `{metric}` in `{text}`: use one of {}",
                options()
            )),
        }
    }

    /// The monitored figure from the total loss and `(objective, loss, accuracy)`
    /// rows, as a score where lower is better.
    pub fn score<'a>(
        &self,
        total: f64,
        mut objectives: impl Iterator<Item = (&'a str, f64, f64)>,
    ) -> f64 {
        let (name, accuracy) = match self {
            Self::TotalLoss => return total,
            Self::Loss(o) => (o, false),
            Self::Accuracy(o) => (o, true),
        };
        match objectives.find(|(n, _, _)| n == name) {
            Some((_, _, a)) if accuracy => -a,
            Some((_, l, _)) => l,
            None => f64::INFINITY,
        }
    }

    /// How it reads in messages: "validation loss", "validation CLS accuracy".
    pub fn describe(&self) -> String {
        match self {
            Self::TotalLoss => "validation loss".to_owned(),
            Self::Loss(o) => format!("validation {o} loss"),
            Self::Accuracy(o) => format!("validation {o} accuracy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_scores() {
        let objectives = ["CLS", "MLM"];
        assert_eq!(Monitor::parse("loss", &objectives), Ok(Monitor::TotalLoss));
        let acc = Monitor::parse("CLS.accuracy", &objectives).unwrap();
        assert_eq!(acc, Monitor::Accuracy("CLS".into()));
        let rows = [("CLS", 0.5, 0.8), ("MLM", 2.0, 0.3)];
        assert_eq!(acc.score(9.0, rows.iter().copied()), -0.8);
        let mlm = Monitor::parse("MLM.loss", &objectives).unwrap();
        assert_eq!(mlm.score(9.0, rows.iter().copied()), 2.0);
        assert_eq!(Monitor::TotalLoss.score(9.0, rows.iter().copied()), 9.0);
        let err = Monitor::parse("NSP.accuracy", &objectives).unwrap_err();
        assert!(
            err.contains("does not train") && err.contains("\"CLS.accuracy\""),
            "{err}"
        );
        assert!(Monitor::parse("CLS.f1", &objectives)
            .unwrap_err()
            .contains("unknown metric"));
        assert!(Monitor::parse("accuracy", &objectives)
            .unwrap_err()
            .contains("unknown monitor"));
    }
}
