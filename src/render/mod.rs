//! The viewer's 3D picture of the heart, drawn with wgpu into an offscreen texture (the window
//! shows it as an image): the myocardium surface lit and coloured by one species' field, an
//! optional clipping plane, and the slice on that plane showing the field inside the wall.
//!
//! The field is the solver's own: `view_extract.wgsl` copies the selected species from the
//! simulation's brick grid into a 3D texture on the GPU (each stored tissue voxel to its place;
//! no readback), and
//! `view_render.wgsl` samples it. The surface is the boundary of the labelled tissue voxels
//! (surface nets), so it is the grid the solver runs on, whatever mesh it came from.
//!
//! `camera` orbits and picks, `scene` holds the surface and what a click hits; this file draws.

pub mod camera;
mod levels;
mod scene;

pub use levels::{FineBox, MAX_FINE_TEXELS, NO_LEAF};
pub use scene::{vertex_normals, ClipPlane, Scene, CPU_TRIANGLE_BUDGET};

use glam::{DMat4, DVec3};

use crate::base::colormap;
use crate::base::Grid;
use crate::error::{Result, SimError};
use crate::geometry::isosurface::surface_mesh;
use crate::geometry::mesh::TriMesh;
use crate::gpu::layout::{ExtractInfo, ViewUniform};
use crate::gpu::{shaders, GpuContext};
use crate::problem::Problem;
use crate::render::camera::{hit_triangle, OrbitCamera, Ray};
use crate::sim::Simulation;

/// Colour format of the picture (what egui takes for a native texture).
pub const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// How the picture maps the field to colour and what it shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewStyle {
    /// Colour range, ng/mL (`lo` > 0 on a log scale).
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub clip: Option<ClipPlane>,
    /// Outline the tissue regions (infarct, border zone, remote) on the slice.
    pub outlines: bool,
    /// Background colour (sRGB, 0..1).
    pub background: [f64; 3],
}

impl Scene {}

struct Target {
    size: [u32; 2],
    color: wgpu::Texture,
    color_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
}

/// The GPU side of the picture: the field and label textures, the surface mesh, the
/// pipelines and the offscreen target.
pub struct HeartRenderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    dims: [usize; 3],
    origin: [f64; 3],
    h: f64,
    field_view: wgpu::TextureView,
    /// The finer levels of a refined problem at the finest edge (a 1-texel stand-in without).
    fine: FineBox,
    fine_view: wgpu::TextureView,
    extract: wgpu::ComputePipeline,
    extract_info: wgpu::Buffer,
    extract_stride: u64,
    surface: wgpu::RenderPipeline,
    /// The surface with the clipping plane's discard.
    surface_clipped: wgpu::RenderPipeline,
    slice: wgpu::RenderPipeline,
    uniform: wgpu::Buffer,
    group: wgpu::BindGroup,
    mesh_vertices: wgpu::Buffer,
    /// The field at each vertex (`surface_field` in `view_render.wgsl`).
    mesh_values: wgpu::Buffer,
    vertex_count: u32,
    values_pipeline: wgpu::ComputePipeline,
    values_groups: [wgpu::BindGroup; 2],
    mesh_indices: wgpu::Buffer,
    index_count: u32,
    slice_vertices: wgpu::Buffer,
    target: Option<Target>,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Vertex {
    pos: [f32; 3],
    normal: [f32; 3],
}

impl HeartRenderer {
    /// Uploads the grid's labels (as before refinement) and the scene's surface; the field
    /// texture starts at zero. A refined problem's finer levels get a texture of their own at
    /// the finest edge (`render::levels`).
    pub fn new(ctx: &GpuContext, problem: &Problem, scene: &Scene) -> Result<HeartRenderer> {
        let coarse = problem.coarse_grid();
        let grid = &coarse;
        let device = ctx.device.clone();
        let queue = ctx.queue.clone();
        let [nx, ny, nz] = grid.dims;
        let max3d = device.limits().max_texture_dimension_3d as usize;
        if grid.dims.iter().any(|&n| n > max3d) {
            return Err(SimError::Problem(format!(
                "the viewer shows grids up to {max3d} voxels per axis on {}; this grid is \
                 {nx}×{ny}×{nz} (use a coarser [grid] spacing)",
                ctx.report.name
            )));
        }
        let size = wgpu::Extent3d {
            width: nx as u32,
            height: ny as u32,
            depth_or_array_layers: nz as u32,
        };
        let texture = |label: &str, format, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D3,
                format,
                usage,
                view_formats: &[],
            })
        };
        let field = texture(
            "render::field",
            wgpu::TextureFormat::R32Float,
            wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::TEXTURE_BINDING,
        );
        let labels = texture(
            "render::labels",
            wgpu::TextureFormat::R8Uint,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        let bytes: Vec<u8> = grid.labels.iter().map(|&l| l as u8).collect();
        queue.write_texture(
            labels.as_image_copy(),
            &bytes,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(nx as u32),
                rows_per_image: Some(ny as u32),
            },
            size,
        );
        let field_view = field.create_view(&Default::default());
        let labels_view = labels.create_view(&Default::default());
        let fine = FineBox::of(problem, max3d as u32);
        let fine_view = levels::fine_texture(&device, &queue, &fine);

        let extract_module = ctx.shader(
            "view_extract.wgsl",
            &shaders::module("view_extract.wgsl", ctx.subgroups())?,
        )?;
        let extract = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("render::extract"),
            layout: None,
            module: &extract_module,
            entry_point: Some("extract"),
            compilation_options: Default::default(),
            cache: None,
        });
        let align = device.limits().min_uniform_buffer_offset_alignment as u64;
        let extract_stride = (std::mem::size_of::<ExtractInfo>() as u64).next_multiple_of(align);
        let extract_info = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("render::extract_info"),
            size: extract_stride * 4,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let module = ctx.shader(
            "view_render.wgsl",
            &shaders::module("view_render.wgsl", ctx.subgroups())?,
        )?;
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("render::HeartRenderer"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                texture_entry(1, wgpu::TextureSampleType::Float { filterable: false }),
                texture_entry(2, wgpu::TextureSampleType::Uint),
                texture_entry(4, wgpu::TextureSampleType::Float { filterable: false }),
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("render::uniform"),
            size: std::mem::size_of::<ViewUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let lut = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("render::colour_table"),
            size: 256 * 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        queue.write_buffer(&lut, 0, bytemuck::cast_slice(&colormap::table(256)));
        // The uniform and the two grid textures, bound alike for drawing and for the
        // surface's per-vertex field.
        let grid_entries = [
            wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: wgpu::BindingResource::TextureView(&field_view),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(&labels_view),
            },
            wgpu::BindGroupEntry {
                binding: 4,
                resource: wgpu::BindingResource::TextureView(&fine_view),
            },
        ];
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("render::HeartRenderer"),
            layout: &layout,
            entries: &[
                grid_entries[0].clone(),
                grid_entries[1].clone(),
                grid_entries[2].clone(),
                grid_entries[3].clone(),
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: lut.as_entire_binding(),
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("render::HeartRenderer"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let buffers = [
            Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<Vertex>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3],
            }),
            Some(wgpu::VertexBufferLayout {
                array_stride: 4,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &wgpu::vertex_attr_array![2 => Float32],
            }),
        ];
        let pipeline = |vs: &str, fs: &str, clip: bool| {
            let constants = [("CLIP", if clip { 1.0 } else { 0.0 })];
            let options = wgpu::PipelineCompilationOptions {
                constants: if fs == "fs_surface" { &constants } else { &[] },
                ..Default::default()
            };
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(fs),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some(vs),
                    compilation_options: options.clone(),
                    buffers: if vs == "vs_surface" {
                        &buffers[..]
                    } else {
                        &buffers[..1]
                    },
                },
                primitive: wgpu::PrimitiveState {
                    topology: wgpu::PrimitiveTopology::TriangleList,
                    cull_mode: None,
                    ..Default::default()
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: Default::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some(fs),
                    compilation_options: options,
                    targets: &[Some(wgpu::ColorTargetState {
                        format: COLOR_FORMAT,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let surface = pipeline("vs_surface", "fs_surface", false);
        let surface_clipped = pipeline("vs_surface", "fs_surface", true);
        let slice = pipeline("vs_slice", "fs_slice", false);

        let verts: Vec<Vertex> = scene
            .mesh
            .vertices
            .iter()
            .zip(&scene.normals)
            .map(|(p, n)| Vertex {
                pos: p.map(|x| x as f32),
                normal: *n,
            })
            .collect();
        let indices: Vec<u32> = scene.mesh.triangles.iter().flatten().copied().collect();
        let buffer = |label: &str, bytes: &[u8], usage| {
            let b = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (bytes.len() as u64).next_multiple_of(4).max(16),
                usage: usage | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            queue.write_buffer(&b, 0, bytes);
            b
        };
        let mesh_vertices = buffer(
            "render::mesh_vertices",
            bytemuck::cast_slice(&verts),
            wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::STORAGE,
        );
        let mesh_values = buffer(
            "render::mesh_values",
            &vec![0u8; verts.len() * 4],
            wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::STORAGE,
        );
        let values_pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("render::surface_field"),
            layout: None,
            module: &module,
            entry_point: Some("surface_field"),
            compilation_options: Default::default(),
            cache: None,
        });
        let values_groups = [
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("render::surface_field"),
                layout: &values_pipeline.get_bind_group_layout(0),
                entries: &grid_entries,
            }),
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("render::surface_field"),
                layout: &values_pipeline.get_bind_group_layout(1),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: mesh_vertices.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: mesh_values.as_entire_binding(),
                    },
                ],
            }),
        ];
        // The grid part of the uniform, which the surface's field needs before the first
        // picture is drawn.
        let u = ViewUniform {
            origin: [
                grid.origin[0] as f32,
                grid.origin[1] as f32,
                grid.origin[2] as f32,
                grid.spacing as f32,
            ],
            dims: [nx as u32, ny as u32, nz as u32, 0],
            fine_origin: fine.uniform_origin(),
            fine_dims: [fine.dims[0], fine.dims[1], fine.dims[2], 0],
            ..Default::default()
        };
        queue.write_buffer(&uniform, 0, bytemuck::bytes_of(&u));
        let mesh_indices = buffer(
            "render::mesh_indices",
            bytemuck::cast_slice(&indices),
            wgpu::BufferUsages::INDEX,
        );
        let slice_vertices = buffer(
            "render::slice",
            &[0u8; 6 * std::mem::size_of::<Vertex>()],
            wgpu::BufferUsages::VERTEX,
        );
        ctx.errors.check()?;
        Ok(HeartRenderer {
            device,
            queue,
            dims: grid.dims,
            origin: grid.origin,
            h: grid.spacing,
            field_view,
            fine,
            fine_view,
            extract,
            extract_info,
            extract_stride,
            surface,
            surface_clipped,
            slice,
            uniform,
            group,
            mesh_vertices,
            mesh_values,
            vertex_count: verts.len() as u32,
            values_pipeline,
            values_groups,
            mesh_indices,
            index_count: indices.len() as u32,
            slice_vertices,
            target: None,
        })
    }

    /// Copies species `s` of the simulation's current fields into the picture's field
    /// texture (on the GPU, after the steps already submitted; nothing is read back).
    pub fn update_field(&mut self, sim: &Simulation, s: usize) {
        let slabs = sim.field_slabs();
        let needed = self.extract_stride * slabs.len() as u64;
        if needed > self.extract_info.size() {
            self.extract_info = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("render::extract_info"),
                size: needed,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
        }
        let packs = sim.n_species().div_ceil(4) as u32;
        let mut bytes = vec![0u8; needed as usize];
        for (i, slab) in slabs.iter().enumerate() {
            let (level, fine) = self.fine.levels.get(slab.grid).copied().unwrap_or_default();
            let info = ExtractInfo {
                first_brick: slab.first_brick,
                n_bricks: slab.n_bricks,
                n_packs: packs,
                species: s as u32,
                level,
                fine,
            };
            let o = i * self.extract_stride as usize;
            bytes[o..o + std::mem::size_of::<ExtractInfo>()]
                .copy_from_slice(bytemuck::bytes_of(&info));
        }
        self.queue.write_buffer(&self.extract_info, 0, &bytes);
        let layout = self.extract.get_bind_group_layout(0);
        let groups: Vec<wgpu::BindGroup> = slabs
            .iter()
            .enumerate()
            .map(|(i, slab)| {
                self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("render::extract"),
                    layout: &layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: slab.fields.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: &self.extract_info,
                                offset: i as u64 * self.extract_stride,
                                size: wgpu::BufferSize::new(
                                    std::mem::size_of::<ExtractInfo>() as u64
                                ),
                            }),
                        },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: wgpu::BindingResource::TextureView(&self.field_view),
                        },
                        wgpu::BindGroupEntry {
                            binding: 3,
                            resource: slab.bricks.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 4,
                            resource: wgpu::BindingResource::TextureView(&self.fine_view),
                        },
                    ],
                })
            })
            .collect();
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("render::extract"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("render::extract"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.extract);
            // One workgroup per own brick, in rows of at most 65535.
            for (slab, g) in slabs.iter().zip(&groups) {
                if slab.n_bricks == 0 {
                    continue;
                }
                pass.set_bind_group(0, g, &[]);
                pass.dispatch_workgroups(
                    slab.n_bricks.min(65535),
                    slab.n_bricks.div_ceil(65535),
                    1,
                );
            }
        }
        {
            // Then the field at the surface's vertices, from the texture just written.
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("render::surface_field"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.values_pipeline);
            pass.set_bind_group(0, &self.values_groups[0], &[]);
            pass.set_bind_group(1, &self.values_groups[1], &[]);
            let groups = self.vertex_count.div_ceil(64).max(1);
            let max = self.device.limits().max_compute_workgroups_per_dimension;
            pass.dispatch_workgroups(groups.min(max), groups.div_ceil(max), 1);
        }
        self.queue.submit([enc.finish()]);
    }

    /// Draws the picture at `size` pixels into [`Self::picture`] (format [`COLOR_FORMAT`]),
    /// whose view stays the same until the size changes.
    pub fn render(&mut self, size: [u32; 2], camera: &OrbitCamera, style: &ViewStyle) {
        let size = [size[0].max(1), size[1].max(1)];
        let aspect = size[0] as f64 / size[1] as f64;
        let view_proj: DMat4 = camera.projection(aspect) * camera.view();
        let eye = camera.eye();
        let light = (eye - camera.target).normalize_or(DVec3::Z);
        let (lo, hi) = if style.log {
            (style.lo.max(1e-30).log10(), style.hi.max(1e-30).log10())
        } else {
            (style.lo, style.hi)
        };
        let clip = style.clip.unwrap_or(ClipPlane {
            point: DVec3::ZERO,
            normal: DVec3::Z,
        });
        let u = ViewUniform {
            view_proj: view_proj.as_mat4().to_cols_array_2d(),
            clip: [
                clip.normal.x as f32,
                clip.normal.y as f32,
                clip.normal.z as f32,
                -clip.normal.dot(clip.point) as f32,
            ],
            origin: [
                self.origin[0] as f32,
                self.origin[1] as f32,
                self.origin[2] as f32,
                self.h as f32,
            ],
            light: [light.x as f32, light.y as f32, light.z as f32, 0.35],
            range: [lo as f32, hi as f32, if style.log { 1.0 } else { 0.0 }, 0.0],
            dims: [
                self.dims[0] as u32,
                self.dims[1] as u32,
                self.dims[2] as u32,
                style.outlines as u32,
            ],
            fine_origin: self.fine.uniform_origin(),
            fine_dims: [self.fine.dims[0], self.fine.dims[1], self.fine.dims[2], 0],
        };
        self.queue
            .write_buffer(&self.uniform, 0, bytemuck::bytes_of(&u));
        if let Some(c) = &style.clip {
            self.queue.write_buffer(
                &self.slice_vertices,
                0,
                bytemuck::cast_slice(&self.slice_quad(c)),
            );
        }
        if self.target.as_ref().is_none_or(|t| t.size != size) {
            self.target = Some(make_target(&self.device, size));
        }
        let Some(target) = &self.target else {
            return;
        };
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("render::HeartRenderer"),
            });
        {
            let [r, g, b] = style.background;
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("render::HeartRenderer"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target.color_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &target.depth_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &self.group, &[]);
            pass.set_pipeline(if style.clip.is_some() {
                &self.surface_clipped
            } else {
                &self.surface
            });
            pass.set_vertex_buffer(0, self.mesh_vertices.slice(..));
            pass.set_vertex_buffer(1, self.mesh_values.slice(..));
            pass.set_index_buffer(self.mesh_indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..self.index_count, 0, 0..1);
            if style.clip.is_some() {
                pass.set_pipeline(&self.slice);
                pass.set_vertex_buffer(0, self.slice_vertices.slice(..));
                pass.draw(0..6, 0..1);
            }
        }
        self.queue.submit([enc.finish()]);
    }

    /// The last picture drawn, once [`HeartRenderer::render`] has drawn one.
    pub fn picture(&self) -> Option<&wgpu::TextureView> {
        self.target.as_ref().map(|t| &t.color_view)
    }

    /// The picture's texture (for screenshots of the 3D view alone), once rendered.
    pub fn texture(&self) -> Option<&wgpu::Texture> {
        self.target.as_ref().map(|t| &t.color)
    }

    /// A square on the plane, centred on the grid's centre, covering the whole grid.
    fn slice_quad(&self, c: &ClipPlane) -> [Vertex; 6] {
        let size = DVec3::new(
            self.dims[0] as f64,
            self.dims[1] as f64,
            self.dims[2] as f64,
        ) * self.h;
        let centre = DVec3::from_array(self.origin) + 0.5 * size;
        let on_plane = centre - c.normal * c.normal.dot(centre - c.point);
        let r = size.length();
        let u = c.normal.any_orthonormal_vector() * r;
        let v = c.normal.cross(u.normalize()) * r;
        let corner = |a: f64, b: f64| Vertex {
            pos: (on_plane + a * u + b * v).as_vec3().to_array(),
            normal: c.normal.as_vec3().to_array(),
        };
        [
            corner(-1.0, -1.0),
            corner(1.0, -1.0),
            corner(1.0, 1.0),
            corner(-1.0, -1.0),
            corner(1.0, 1.0),
            corner(-1.0, 1.0),
        ]
    }
}

/// The picture's colour and depth textures at `size` pixels.
fn make_target(device: &wgpu::Device, size: [u32; 2]) -> Target {
    let extent = wgpu::Extent3d {
        width: size[0],
        height: size[1],
        depth_or_array_layers: 1,
    };
    let color = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("render::color"),
        size: extent,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: COLOR_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let depth = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("render::depth"),
        size: extent,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: DEPTH_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
        view_formats: &[],
    });
    Target {
        size,
        color_view: color.create_view(&Default::default()),
        depth_view: depth.create_view(&Default::default()),
        color,
    }
}

fn texture_entry(binding: u32, sample_type: wgpu::TextureSampleType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D3,
            multisampled: false,
        },
        count: None,
    }
}
