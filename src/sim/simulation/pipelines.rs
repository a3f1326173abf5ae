//! The compute pipelines of every kernel and the bind group layouts they share, built once per
//! simulation from the composed shader modules.

use super::*;

/// Every pipeline of the solver and the layouts its bind groups are made with.
pub(super) struct Pipelines {
    pub(super) slab_layout: wgpu::BindGroupLayout,
    pub(super) globals_layout: wgpu::BindGroupLayout,
    pub(super) stage_layout: wgpu::BindGroupLayout,
    pub(super) reduce_layout: wgpu::BindGroupLayout,
    pub(super) region_layout: wgpu::BindGroupLayout,
    pub(super) region_species_layout: wgpu::BindGroupLayout,
    pub(super) plasma_layout: wgpu::BindGroupLayout,
    pub(super) diffuse: wgpu::ComputePipeline,
    pub(super) diffuse_react: wgpu::ComputePipeline,
    pub(super) react: wgpu::ComputePipeline,
    pub(super) mass: wgpu::ComputePipeline,
    pub(super) reduce: wgpu::ComputePipeline,
    pub(super) region_stats: wgpu::ComputePipeline,
    pub(super) region_totals: wgpu::ComputePipeline,
    pub(super) depot_sample: wgpu::ComputePipeline,
    pub(super) depot_update: wgpu::ComputePipeline,
    pub(super) plasma_update: wgpu::ComputePipeline,
    pub(super) plasma_predict: wgpu::ComputePipeline,
    /// The faces between levels (`levels.wgsl`), for a refined problem only.
    pub(super) levels: Option<LevelPipelines>,
}

/// The two kernels of the faces between levels and their layouts: groups 0 and 1 hold only
/// what they read of the grid kernels' (the slab's fields and info, the species), group 3 their
/// own plan and table: 5 storage buffers. With the grid kernels' whole groups they would bind
/// 11, more than browsers offer (10).
pub(super) struct LevelPipelines {
    pub(super) slab: wgpu::BindGroupLayout,
    pub(super) globals: wgpu::BindGroupLayout,
    pub(super) own: wgpu::BindGroupLayout,
    pub(super) gather: wgpu::ComputePipeline,
    pub(super) apply: wgpu::ComputePipeline,
}

impl Pipelines {
    /// Compiles the kernels for `ctx`: `subgroups` picks the ledger reduction (subgroup
    /// operations or the workgroup tree), `exposure` specialises the stages that accumulate
    /// the exposure readouts.
    pub(super) fn new(
        ctx: &GpuContext,
        subgroups: bool,
        exposure_on: bool,
        all_full: bool,
        weighted: bool,
    ) -> Result<Pipelines> {
        let full = ("ALL_FULL", f64::from(u8::from(all_full)));
        let device = &ctx.device;
        // Layouts and pipelines.
        let slab_entries = [
            storage(true, 0),
            storage(false, 1),
            storage(true, 2),
            storage(false, 3),
            uniform(4, false, std::mem::size_of::<SlabInfo>() as u64),
            storage(false, 5),
            storage(true, 6),
        ];
        let globals_entries = [
            storage(true, 0),
            uniform(1, false, std::mem::size_of::<LabelTableGpu>() as u64),
            storage(true, 2),
            storage(true, 3),
        ];
        // The faces between levels read the current fields, write the next (as `src`, `dst`)
        // and read the slab's info and the species: their groups 0 and 1 hold only those.
        let level_slab_entries = [
            storage(true, 0),
            storage(false, 1),
            uniform(4, false, std::mem::size_of::<SlabInfo>() as u64),
        ];
        let level_globals_entries = [storage(true, 0)];
        let level_entries = [
            storage(false, 0),
            storage(true, 1),
            uniform(2, false, std::mem::size_of::<LevelSlabInfo>() as u64),
        ];
        // The grid kernels bind the slab's and the globals' buffers at once (the faces between
        // levels fewer): an adapter that allows fewer (a browser's WebGPU may allow 8) is told
        // so in one line instead of failing at the first dispatch.
        check_storage_buffers(ctx, &[&slab_entries, &globals_entries])?;
        if weighted {
            check_storage_buffers(
                ctx,
                &[&level_slab_entries, &level_globals_entries, &level_entries],
            )?;
        }
        let slab_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::slab"),
            entries: &slab_entries,
        });
        let globals_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::globals"),
            entries: &globals_entries,
        });
        let stage_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::stage"),
            entries: &[uniform(0, true, std::mem::size_of::<StageParams>() as u64)],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("Simulation::grid_kernels"),
            bind_group_layouts: &[
                Some(&slab_layout),
                Some(&globals_layout),
                Some(&stage_layout),
            ],
            immediate_size: 0,
        });
        let modules = shaders::modules(subgroups)?;
        let module = |name: &str| -> Result<wgpu::ShaderModule> {
            let src = modules
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.as_str())
                .ok_or_else(|| SimError::Gpu(format!("missing shader {name}")))?;
            ctx.shader(name, src)
        };
        // Every kernel writes its workgroup arrays before reading them, so the zero fill that
        // wgpu adds by default would only cost time.
        let specialised = |label: &str,
                           m: &wgpu::ShaderModule,
                           entry: &str,
                           layout: &wgpu::PipelineLayout,
                           constants: &[(&str, f64)]| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(layout),
                module: m,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        };
        let pipeline =
            |label: &str, m: &wgpu::ShaderModule, entry: &str, layout: &wgpu::PipelineLayout| {
                specialised(label, m, entry, layout, &[])
            };
        let diffuse_module = module("diffuse.wgsl")?;
        let diffuse = specialised(
            "Simulation::diffuse_stage",
            &diffuse_module,
            "diffuse_stage",
            &layout,
            &[("REACT_STAGE", 0.0), full],
        );
        let exposure_constant = [("EXPOSURE", f64::from(u8::from(exposure_on))), full];
        let diffuse_react = specialised(
            "Simulation::diffuse_stage_react",
            &diffuse_module,
            "diffuse_stage",
            &layout,
            &[("REACT_STAGE", 1.0), exposure_constant[0], full],
        );
        let react = specialised(
            "Simulation::react_half_step",
            &module("react.wgsl")?,
            "react_half_step",
            &layout,
            &exposure_constant,
        );
        let mass = specialised(
            "Simulation::tissue_amount",
            &module("mass.wgsl")?,
            "tissue_amount",
            &layout,
            &[full],
        );

        let levels = if weighted {
            let layout = |label: &str, entries: &[wgpu::BindGroupLayoutEntry]| {
                device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: Some(label),
                    entries,
                })
            };
            let level_slab = layout("Simulation::level_slab", &level_slab_entries);
            let level_globals = layout("Simulation::level_globals", &level_globals_entries);
            let level_layout = layout("Simulation::levels", &level_entries);
            let level_pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("Simulation::levels"),
                bind_group_layouts: &[
                    Some(&level_slab),
                    Some(&level_globals),
                    Some(&stage_layout),
                    Some(&level_layout),
                ],
                immediate_size: 0,
            });
            let level_module = module("levels.wgsl")?;
            let gather = pipeline(
                "Simulation::level_gather",
                &level_module,
                "level_gather",
                &level_pl,
            );
            let apply = pipeline(
                "Simulation::level_apply",
                &level_module,
                "level_apply",
                &level_pl,
            );
            Some(LevelPipelines {
                slab: level_slab,
                globals: level_globals,
                own: level_layout,
                gather,
                apply,
            })
        } else {
            None
        };

        let (reduce_layout, reduce_pl) = one_group_layout(
            device,
            "Simulation::reduce",
            &[
                storage(true, 0),
                storage(false, 1),
                uniform(2, false, std::mem::size_of::<ReduceInfo>() as u64),
            ],
        );
        let reduce = pipeline(
            "Simulation::reduce_ledger",
            &module("reduce.wgsl")?,
            "reduce_ledger",
            &reduce_pl,
        );

        // Regional readouts: the slab bindings they read, the segments, the workgroups' slots and the totals.
        let region_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::regions"),
            entries: &[
                storage(true, 0),
                storage(true, 2),
                uniform(4, false, std::mem::size_of::<SlabInfo>() as u64),
                storage(false, 5),
                storage(true, 6),
                storage(false, 7),
                storage(false, 8),
                storage(true, 9),
            ],
        });
        let region_species_layout =
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("Simulation::regions_species"),
                entries: &[storage(true, 0)],
            });
        let region_pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("Simulation::regions"),
            bind_group_layouts: &[Some(&region_layout), Some(&region_species_layout)],
            immediate_size: 0,
        });
        let region_module = module("regions.wgsl")?;
        // A refined problem's voxels weigh their volume in the statistics.
        let weight = ("WEIGHTED", f64::from(u8::from(weighted)));
        let region_stats = specialised(
            "Simulation::region_stats",
            &region_module,
            "region_stats",
            &region_pl,
            &[exposure_constant[0], weight],
        );
        let region_totals = specialised(
            "Simulation::region_totals",
            &region_module,
            "region_totals",
            &region_pl,
            &[weight],
        );

        let depot_sample = pipeline_auto(device, &module("depot_sample.wgsl")?, "depot_sample");
        let depot_update = pipeline_auto(device, &module("depot_update.wgsl")?, "depot_update");
        let (plasma_layout, plasma_pl) = one_group_layout(
            device,
            "Simulation::plasma",
            &[
                storage(true, 0),
                storage(false, 1),
                storage(false, 2),
                storage(false, 3),
                storage(true, 4),
                uniform(5, false, std::mem::size_of::<PlasmaInfo>() as u64),
            ],
        );
        let plasma_module = module("plasma_update.wgsl")?;
        let plasma_update = pipeline(
            "Simulation::plasma_update",
            &plasma_module,
            "plasma_update",
            &plasma_pl,
        );
        let plasma_predict = pipeline(
            "Simulation::plasma_predict",
            &plasma_module,
            "plasma_predict",
            &plasma_pl,
        );
        Ok(Pipelines {
            slab_layout,
            globals_layout,
            stage_layout,
            reduce_layout,
            region_layout,
            region_species_layout,
            plasma_layout,
            diffuse,
            diffuse_react,
            react,
            mass,
            reduce,
            region_stats,
            region_totals,
            depot_sample,
            depot_update,
            plasma_update,
            plasma_predict,
            levels,
        })
    }
}

/// Refuses an adapter that binds fewer storage buffers per shader stage than the layouts
/// `groups` of one pipeline hold together.
fn check_storage_buffers(ctx: &GpuContext, groups: &[&[wgpu::BindGroupLayoutEntry]]) -> Result<()> {
    let need = groups
        .iter()
        .flat_map(|g| g.iter())
        .filter(|e| {
            matches!(
                e.ty,
                wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { .. },
                    ..
                }
            )
        })
        .count() as u32;
    let have = ctx.report.max_storage_buffers_per_stage;
    if have >= need {
        return Ok(());
    }
    Err(SimError::Device {
        adapter: ctx.report.name.clone(),
        message: format!(
            "it binds at most {have} storage buffers per shader stage; the solver's kernels need {need}"
        ),
    })
}
