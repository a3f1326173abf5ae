//! The lessons menu: the presets of `assets/scenarios/`, built into the binary, each with
//! the explanation its file gives.

/// (menu group, file name, text).
pub const LESSONS: &[(&str, &str, &str)] = &[
    (
        "Three axes",
        "paracrine_border_zone.toml",
        include_str!("../../assets/scenarios/paracrine_border_zone.toml"),
    ),
    (
        "Three axes",
        "paracrine_remote.toml",
        include_str!("../../assets/scenarios/paracrine_remote.toml"),
    ),
    (
        "Three axes",
        "autocrine_on.toml",
        include_str!("../../assets/scenarios/autocrine_on.toml"),
    ),
    (
        "Three axes",
        "autocrine_off.toml",
        include_str!("../../assets/scenarios/autocrine_off.toml"),
    ),
    (
        "Three axes",
        "endocrine_iv.toml",
        include_str!("../../assets/scenarios/endocrine_iv.toml"),
    ),
    (
        "Routes",
        "intramyocardial.toml",
        include_str!("../../assets/scenarios/intramyocardial.toml"),
    ),
    (
        "Routes",
        "transendocardial.toml",
        include_str!("../../assets/scenarios/transendocardial.toml"),
    ),
    (
        "Routes",
        "intracoronary.toml",
        include_str!("../../assets/scenarios/intracoronary.toml"),
    ),
    (
        "Routes",
        "intravenous.toml",
        include_str!("../../assets/scenarios/intravenous.toml"),
    ),
    (
        "Routes",
        "intramuscular.toml",
        include_str!("../../assets/scenarios/intramuscular.toml"),
    ),
    (
        "Routes",
        "subcutaneous.toml",
        include_str!("../../assets/scenarios/subcutaneous.toml"),
    ),
    (
        "Routes",
        "bolus.toml",
        include_str!("../../assets/scenarios/bolus.toml"),
    ),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use secretome::scenario::Scenario;
    use secretome::SpeciesTable;

    /// Every lesson parses and has the explanation it shows beside the heart; the menu holds
    /// every preset file.
    #[test]
    fn every_lesson_parses_and_explains_itself() {
        let table = SpeciesTable::default_table().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
        for (_, file, text) in LESSONS {
            let sc = Scenario::parse(text, file, &dir, &table).unwrap();
            let sentences = sc.description.matches(". ").count() + 1;
            assert!(
                sc.description.len() > 60 && sentences >= 2,
                "{file}: description {:?}",
                sc.description
            );
        }
        let presets = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "toml")
            })
            .count();
        assert_eq!(presets, LESSONS.len(), "a preset is missing from the menu");
    }
}
