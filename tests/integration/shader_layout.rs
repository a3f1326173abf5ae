//! Every struct shared with WGSL has one Rust twin with the same field names, offsets and
//! size, checked against naga's layout of the WGSL; and the constants agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::mem::{offset_of, size_of};

use secretome::gpu::layout::{
    self, consts, Brick, DepotCells, DepotInfo, DepotSlabInfo, KahanSum, LabelParams,
    LabelTableGpu, PlasmaCourse, PlasmaInfo, PlasmaTotals, ReduceInfo, RemotePack, RemoteSite,
    SlabInfo, SpeciesPack, StageParams,
};
use secretome::gpu::layout::{ExtractInfo, LevelSlabInfo, ViewUniform};
use secretome::gpu::shaders;

macro_rules! fields {
    ($t:ty, $($f:ident),* $(,)?) => {
        (size_of::<$t>(), vec![$((stringify!($f), offset_of!($t, $f))),*])
    };
}

/// (struct name, (size, [(field, offset)])).
type Layout = (&'static str, (usize, Vec<(&'static str, usize)>));
/// (struct name, size, [(field, offset)]) as naga lays out the WGSL.
type WgslLayout = (String, usize, Vec<(String, u32)>);

fn rust_layouts() -> Vec<Layout> {
    vec![
        (
            "DepotSlabInfo",
            fields!(DepotSlabInfo, n_packs, slab, n_depots, _pad0),
        ),
        (
            "PlasmaInfo",
            fields!(
                PlasmaInfo, n_packs, n_remote, autocrine, _pad0, dt, volume_ml, a_max, k_half,
                hill, _pad1, _pad2, _pad3
            ),
        ),
        (
            "DepotInfo",
            fields!(
                DepotInfo,
                n_depots,
                n_packs,
                n_slabs,
                enabled,
                a_max,
                k_half,
                hill,
                dt,
                scale_offset,
                _pad0,
                _pad1,
                _pad2
            ),
        ),
        (
            "PlasmaCourse",
            fields!(PlasmaCourse, now, step_mean, step_end, lead, trail, next),
        ),
        (
            "DepotCells",
            fields!(DepotCells, n0, k_death, log_sum, log_comp),
        ),
        ("KahanSum", fields!(KahanSum, sum, comp)),
        (
            "PlasmaTotals",
            fields!(
                PlasmaTotals,
                heart_exchange,
                cleared,
                absorbed,
                remote_secreted,
                remote_lost,
                inflow
            ),
        ),
        (
            "RemotePack",
            fields!(RemotePack, amount, secretion, k_local),
        ),
        (
            "RemoteSite",
            fields!(
                RemoteSite,
                cells,
                k_death,
                k_abs,
                bioavailability,
                volume_ml,
                n0,
                log_sum,
                log_comp,
                packs
            ),
        ),
        (
            "SpeciesPack",
            fields!(
                SpeciesPack,
                diffusion,
                decay,
                vmax,
                km,
                permeability,
                ec50,
                kd
            ),
        ),
        (
            "LabelParams",
            fields!(
                LabelParams,
                m_diffusion,
                m_uptake,
                m_perfusion,
                kind,
                volume_fraction,
                conductance,
                _pad0,
                _pad1
            ),
        ),
        ("LabelTable", fields!(LabelTableGpu, entries)),
        (
            "ExtractInfo",
            fields!(
                ExtractInfo,
                first_brick,
                n_bricks,
                n_packs,
                species,
                level,
                fine
            ),
        ),
        (
            "ViewUniform",
            fields!(
                ViewUniform,
                view_proj,
                clip,
                origin,
                light,
                range,
                dims,
                fine_origin,
                fine_dims
            ),
        ),
        (
            "LevelSlabInfo",
            fields!(
                LevelSlabInfo,
                n_gather,
                n_receivers,
                gather_at,
                receivers_at,
                rfaces_at,
                faces_at,
                stencil_at,
                _pad0
            ),
        ),
        (
            "SlabInfo",
            fields!(
                SlabInfo,
                nx,
                ny,
                nz,
                n_packs,
                first_brick,
                n_bricks,
                groups,
                slot_offset,
                sub_slots,
                inv_h2,
                voxel_ml,
                bricks_x,
                bricks_xy,
                weight,
                _pad1,
                _pad2
            ),
        ),
        (
            "Brick",
            fields!(
                Brick,
                base,
                mask_lo,
                mask_hi,
                source_base,
                origin,
                neighbours,
                planes
            ),
        ),
        (
            "StageParams",
            fields!(
                StageParams,
                nu,
                mu_tilde_dt,
                beta_dt,
                tau,
                flags,
                terms,
                _pad0,
                _pad1
            ),
        ),
        (
            "ReduceInfo",
            fields!(ReduceInfo, slots, entries, _pad0, _pad1),
        ),
    ]
}

fn wgsl_structs() -> Vec<WgslLayout> {
    let mut out = Vec::new();
    for (_, src) in shaders::modules(true)
        .unwrap()
        .into_iter()
        .chain(shaders::modules(false).unwrap())
    {
        let module = naga::front::wgsl::parse_str(&src).unwrap();
        for (_, ty) in module.types.iter() {
            if let (Some(name), naga::TypeInner::Struct { members, span }) = (&ty.name, &ty.inner) {
                if out.iter().any(|(n, _, _): &WgslLayout| n == name) {
                    continue;
                }
                let m = members
                    .iter()
                    .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                    .collect();
                out.push((name.clone(), *span as usize, m));
            }
        }
    }
    out
}

#[test]
fn rust_twins_match_wgsl_structs() {
    let wgsl = wgsl_structs();
    let rust = rust_layouts();
    assert_eq!(
        rust.len(),
        layout::twins().len(),
        "every twin is listed here"
    );
    for (name, (size, fields)) in rust {
        let (_, wsize, wfields) = wgsl
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("WGSL has no struct {name}"));
        assert_eq!(size, *wsize, "{name}: Rust size {size}, WGSL size {wsize}");
        let w: Vec<(&str, usize)> = wfields
            .iter()
            .map(|(n, o)| (n.as_str(), *o as usize))
            .collect();
        assert_eq!(fields, w, "{name}: field names/offsets differ");
    }
    // Every WGSL struct used as a buffer has a twin (the kernels' private structs, their
    // entry-point builtins and naga's built-in result of atomicCompareExchangeWeak excepted).
    let private = [
        "Head",
        "Invocation",
        "Neighbour",
        "Reacted",
        "Relax",
        "Run",
        "Sample",
        "VertexIn",
        "VertexOut",
    ];
    for (name, _, _) in &wgsl {
        assert!(
            private.contains(&name.as_str())
                || name.starts_with("__atomic_compare_exchange_result")
                || layout::twins().iter().any(|(n, _)| n == name),
            "WGSL struct {name} has no Rust twin"
        );
    }
}

/// The value of a `const NAME: u32` in a parsed WGSL module.
fn wgsl_u32(module: &naga::Module, name: &str) -> u32 {
    let (_, c) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no WGSL const {name}"));
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref e => panic!("{name}: unexpected {e:?}"),
    }
}

#[test]
fn constants_match() {
    let common = shaders::files()
        .into_iter()
        .find(|f| f.file == "common.wgsl")
        .unwrap();
    let src = shaders::compose(&common, &shaders::library(false)).unwrap();
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let get = |name: &str| wgsl_u32(&module, name);
    let pairs = [
        ("TERM_DIFFUSION", consts::TERM_DIFFUSION),
        ("TERM_DECAY", consts::TERM_DECAY),
        ("TERM_UPTAKE", consts::TERM_UPTAKE),
        ("TERM_EXCHANGE", consts::TERM_EXCHANGE),
        ("TERM_SOURCES", consts::TERM_SOURCES),
        ("FLAG_HAS_OLD", consts::FLAG_HAS_OLD),
        ("FLAG_REACT", consts::FLAG_REACT),
        ("LEDGER_TERMS", consts::LEDGER_TERMS),
        ("LABEL_MASK", consts::LABEL_MASK),
        ("FACE_SHIFT", consts::FACE_SHIFT),
        ("FACE_TISSUE", consts::FACE_TISSUE),
        ("FACE_CLOSED", consts::FACE_CLOSED),
        ("FLAG_SIMPLE", consts::FLAG_SIMPLE),
        ("FLAG_UNIT", consts::FLAG_UNIT),
        ("SLOT_SHIFT", consts::SLOT_SHIFT),
        ("FLAG_REACT_TWICE", consts::FLAG_REACT_TWICE),
        ("FLAG_TRAIL", consts::FLAG_TRAIL),
        ("L_SECRETED", consts::L_SECRETED as u32),
        ("L_DEGRADED", consts::L_DEGRADED as u32),
        ("L_UPTAKE", consts::L_UPTAKE as u32),
        ("L_CAPILLARY", consts::L_CAPILLARY as u32),
        ("L_BLOOD", consts::L_BLOOD as u32),
        ("L_AMOUNT", consts::L_AMOUNT as u32),
        ("KIND_OUTSIDE", secretome::base::LabelKind::Outside as u32),
        ("KIND_BLOOD", secretome::base::LabelKind::Blood as u32),
        ("KIND_TISSUE", secretome::base::LabelKind::Tissue as u32),
    ];
    for (name, v) in pairs {
        assert_eq!(get(name), v, "{name}");
    }
    // The grid kernels read the plasma course as vec4 entries: PC_* are the field offsets of
    // the Rust (and WGSL) PlasmaCourse in vec4 units.
    assert_eq!(
        get("PLASMA_ENTRIES") as usize * 16,
        size_of::<PlasmaCourse>()
    );
    for (name, offset) in [
        ("PC_NOW", offset_of!(PlasmaCourse, now)),
        ("PC_STEP_MEAN", offset_of!(PlasmaCourse, step_mean)),
        ("PC_STEP_END", offset_of!(PlasmaCourse, step_end)),
        ("PC_LEAD", offset_of!(PlasmaCourse, lead)),
        ("PC_TRAIL", offset_of!(PlasmaCourse, trail)),
        ("PC_NEXT", offset_of!(PlasmaCourse, next)),
    ] {
        assert_eq!(get(name) as usize * 16, offset, "{name}");
    }
    // The labels fit the mask; a brick is the 64 invocations of a workgroup.
    assert!(secretome::TissueLabel::COUNT as u32 <= consts::LABEL_MASK + 1);
    assert_eq!(get("BRICK_VOXELS"), 64);
    assert_eq!(get("NO_BRICK"), consts::NO_BRICK);
    assert_eq!(consts::LABEL_MASK + 1, 1 << consts::FACE_SHIFT);
    // Six two-bit face codes, then the flags, then the source slot.
    assert_eq!(consts::FLAG_SIMPLE, 1 << (consts::FACE_SHIFT + 12));
    assert_eq!(consts::FLAG_UNIT << 1, 1 << consts::SLOT_SHIFT);
    // A blood face's code is its label + 1: both blood labels fit the two bits.
    for l in secretome::TissueLabel::ALL {
        if l.kind() == secretome::base::LabelKind::Blood {
            assert!(
                (l as u32 + 1) > consts::FACE_CLOSED && (l as u32 + 1) < 4,
                "{l:?}"
            );
        }
    }
    assert_eq!(consts::BRICK, 4);
    let file = |name: &str| {
        shaders::files()
            .into_iter()
            .find(|f| f.file == name)
            .unwrap()
            .text
    };
    // Every grid kernel runs 64 invocations and walks its workgroup's run of work units: the
    // per-voxel ones a brick at a time (invocation li on local voxel li), the diffusion stages
    // four units at a time (invocation li on column li % 16 of unit li / 16: a brick, or in a
    // grid of full bricks a column of brick layers).
    for name in ["react.wgsl", "mass.wgsl", "regions.wgsl"] {
        let text = file(name);
        assert!(text.contains("@workgroup_size(64, 1, 1)"), "{name}");
        assert!(text.contains("brick_run("), "{name}");
    }
    let diffuse = file("diffuse.wgsl");
    assert!(diffuse.contains("@workgroup_size(64, 1, 1)"));
    assert!(diffuse.contains("unit_run(inv.wg.x, units)"));
    assert!(diffuse.contains(&format!(
        "const GROUP_BRICKS: u32 = {}u;",
        consts::GROUP_UNITS
    )));
}

/// The viewer's shader tells tissue from blood and outside by the label numbers.
#[test]
fn view_shader_labels_match_the_tissue_labels() {
    use secretome::TissueLabel;
    let src = shaders::module("view_render.wgsl", false).unwrap();
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let get = |name: &str| wgsl_u32(&module, name);
    assert_eq!(get("LABEL_OUTSIDE"), TissueLabel::Outside as u32);
    let first = get("FIRST_TISSUE");
    for l in TissueLabel::ALL {
        assert_eq!(l.is_tissue(), l as u32 >= first, "{l:?}");
    }
}
