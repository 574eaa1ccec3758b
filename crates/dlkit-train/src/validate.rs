//! The ranges of a config that serde cannot check, each error naming its field; shared by
//! training and the gradient check, so both accept the same configs.

use dlkit_nn::{Reduction, Regularizer};

use crate::config::LoadedConfig;
use crate::error::TrainResult;

impl LoadedConfig {
    /// Checks every setting that the types allow but the run does not: counts of 0,
    /// schedule, optimizer and preprocessing ranges, penalties, metric fractions.
    pub fn validate(&self) -> TrainResult<()> {
        let c = &self.config;
        if c.train.epochs == 0 {
            return Err(self.error("[train] epochs", "must be at least 1"));
        }
        if c.train.batch_size == Some(0) {
            return Err(self.error(
                "[train] batch_size",
                "must be at least 1 (leave it out for full-batch gradient descent)",
            ));
        }
        if c.train.record_every == 0 {
            return Err(self.error("[train] record_every", "must be at least 1"));
        }
        if c.train.checkpoint_every == Some(0) {
            return Err(self.error(
                "[train] checkpoint_every",
                "must be at least 1 (leave it out for no checkpoints)",
            ));
        }
        if c.train.loss_reduction == Some(Reduction::None) {
            return Err(self.error(
                "[train] loss_reduction",
                "\"none\" gives one loss per example, but training needs a scalar cost: use \
                 \"mean\" (the default) or \"sum\"",
            ));
        }
        c.train
            .schedule
            .validate()
            .map_err(|e| self.error("[train] schedule", e))?;
        c.optimizer
            .validate()
            .map_err(|e| self.error("[optimizer]", e))?;
        c.preprocess
            .validate()
            .map_err(|e| self.error("[preprocess]", e))?;
        self.regularizer()?;
        if let Some(h) = c.metrics.human_level_error {
            if !(0.0..=1.0).contains(&h) {
                return Err(self.error(
                    "[metrics] human_level_error",
                    format!("{h} is not a fraction in [0, 1] (0.01 for 1%)"),
                ));
            }
        }
        if let Some(t) = c.metrics.tolerance {
            if !(t.is_finite() && t >= 0.0) {
                return Err(self.error(
                    "[metrics] tolerance",
                    format!("{t} must be a fraction >= 0"),
                ));
            }
        }
        Ok(())
    }

    /// The weight penalty of `[train]`: `l2` (`λ/(2m) Σ‖W‖²`) or `l1` (`λ/m Σ|W|`), not both,
    /// λ finite and >= 0.
    pub fn regularizer(&self) -> TrainResult<Option<Regularizer>> {
        let t = &self.config.train;
        let check = |field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(self.error(field, format!("{v} must be a finite number >= 0")))
            }
        };
        match (t.l2, t.l1) {
            (Some(_), Some(_)) => Err(self.error(
                "[train]",
                "give either l2 or l1, not both (one penalty per run)",
            )),
            (Some(l), None) => check("[train] l2", l).map(|_| Some(Regularizer::l2(l))),
            (None, Some(l)) => check("[train] l1", l).map(|_| Some(Regularizer::l1(l))),
            (None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, LoadedConfig, DEFAULT_CONFIG};

    fn loaded(text: &str) -> LoadedConfig {
        LoadedConfig {
            config: parse(text, "cat.toml").unwrap(),
            name: "cat.toml".into(),
            bases: Vec::new(),
        }
    }

    fn with_train(line: &str) -> String {
        DEFAULT_CONFIG.replace("epochs = 2500", &format!("epochs = 2500\n{line}"))
    }

    #[test]
    fn loss_reduction_takes_mean_or_sum_for_training() {
        for ok in ["mean", "sum"] {
            loaded(&with_train(&format!("loss_reduction = \"{ok}\"")))
                .validate()
                .unwrap();
        }
        let e = loaded(&with_train("loss_reduction = \"none\""))
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "cat.toml: [train] loss_reduction: \"none\" gives one loss per example, but \
             training needs a scalar cost: use \"mean\" (the default) or \"sum\""
        );
        let e = parse(&with_train("loss_reduction = \"avg\""), "cat.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown variant `avg`") && e.contains("[train] loss_reduction"),
            "{e}"
        );
    }

    #[test]
    fn pytorch_optimizer_options_are_checked_with_their_table() {
        let text = DEFAULT_CONFIG.replace(
            "type = \"gradient_descent\"",
            "type = \"sgd\"\nmomentum = 0.9\ndampening = 0.5\nnesterov = true",
        );
        let e = loaded(&text).validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "cat.toml: [optimizer]: config: optimizer gradient_descent: `nesterov` needs \
             `momentum` > 0 and `dampening` = 0 (as torch.optim.SGD), got momentum 0.9 and \
             dampening 0.5"
        );
        let text = DEFAULT_CONFIG.replace(
            "type = \"gradient_descent\"",
            "type = \"adamw\"\namsgrad = true",
        );
        loaded(&text).validate().unwrap();
    }
}
