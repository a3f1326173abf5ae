//! Steering the run from the window: depots placed, moved, deleted or given cells, and the
//! equation's terms and parameters as the controls edit them. Each change goes to the running
//! session; an error goes to the status bar.

use glam::DVec3;

use secretome::session::PlacedDepot;

use super::{Marker, ViewerApp, RETAINED};

impl ViewerApp {
    /// The cells in depot `i` now (as the last snapshot read them; before the first, as
    /// placed).
    pub(in crate::viewer) fn live_cells(&self, i: usize) -> f64 {
        self.readouts
            .snapshot
            .as_ref()
            .and_then(|s| s.depot_cells.get(i).copied())
            .unwrap_or(self.markers.get(i).map_or(0.0, |m| m.initial_cells))
    }

    /// Places a depot of the placing tool's dose, route and radius at `p`.
    pub(in crate::viewer) fn place_at(&mut self, p: DVec3) {
        let n = self.markers.iter().filter(|m| m.placed).count() + 1;
        let cells = self.placing.dose * RETAINED;
        let d = PlacedDepot {
            name: format!("{} {n}", self.placing.route.name()),
            at: p.to_array(),
            radius_mm: self.placing.radius,
            cells,
        };
        if let Some(i) = {
            let r = self.session.place_depot(&d);
            self.report(r)
        } {
            self.markers.push(Marker {
                name: d.name.clone(),
                centre: p,
                radius_mm: d.radius_mm,
                initial_cells: cells,
                placed: true,
            });
            self.placing.selected = Some(i);
            self.steered();
            self.say(
                format!(
                    "placed {} at ({:.1}, {:.1}, {:.1}) mm: {:.2e} cells ({:.0} % of {:.2e})",
                    d.name,
                    p.x,
                    p.y,
                    p.z,
                    cells,
                    RETAINED * 100.0,
                    self.placing.dose
                ),
                false,
            );
        }
    }

    pub(in crate::viewer) fn move_depot(&mut self, i: usize, p: DVec3, radius: f64) {
        let r = self.session.move_depot(i, p.to_array(), radius);
        if self.report(r).is_some() {
            self.markers[i].centre = p;
            self.markers[i].radius_mm = radius;
            self.steered();
        }
    }

    pub(in crate::viewer) fn delete_depot(&mut self, i: usize) {
        let r = self.session.delete_depot(i);
        if self.report(r).is_some() {
            let m = self.markers.remove(i);
            self.placing.selected = None;
            self.steered();
            self.say(format!("deleted {}", m.name), false);
        }
    }

    pub(in crate::viewer) fn set_cells(&mut self, i: usize, cells: f64) {
        let r = self.session.set_cells(i, cells);
        if self.report(r).is_some() {
            self.steered();
        }
    }

    pub(in crate::viewer) fn apply_terms(&mut self) {
        let terms = self.model.terms;
        let r = self.session.simulation_mut().set_terms(terms);
        self.report(r);
    }

    pub(in crate::viewer) fn apply_autocrine(&mut self) {
        let mut a = self.session.simulation().problem().autocrine.clone();
        a.enabled = self.model.autocrine;
        let r = self.session.simulation_mut().set_autocrine(&a);
        if self.report(r).is_some() {
            self.steered();
        }
    }

    pub(in crate::viewer) fn apply_species(&mut self) {
        let table = self.model.table.clone();
        let r = self.session.set_species(&table);
        self.report(r);
    }

    pub(in crate::viewer) fn apply_secretion(&mut self, s: usize) {
        let v = self.model.table.species[s].secretion.value;
        let r = self.session.set_secretion(s, v);
        if self.report(r).is_some() {
            self.steered();
        }
    }
}
