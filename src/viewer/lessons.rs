//! The lessons menu: the presets built into the program (`scenario::presets`), each with the
//! explanation its file gives.

/// (menu group, file name, text).
pub use secretome::scenario::presets::PRESETS as LESSONS;

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
