// The viewer's heart: the myocardium surface lit and coloured by one species' field, cut by
// an optional clipping plane, and the slice on that plane showing the field inside the wall.

struct ViewUniform {
    view_proj: mat4x4<f32>,
    clip: vec4<f32>,     // plane n·p + w = 0 (mm); where n·p + w > 0 is cut away
    origin: vec4<f32>,   // grid corner (mm); w = voxel edge h (mm)
    light: vec4<f32>,    // unit direction towards the light; w = ambient share
    range: vec4<f32>,    // x, y: colour range (ng/mL, or log10 of it); z = 1: log; w: unused
    dims: vec4<u32>,     // nx, ny, nz; w bit 0: outline the tissue regions on the slice
    fine_origin: vec4<f32>, // the fine texture's corner (mm); w = its texel edge (0: none)
    fine_dims: vec4<u32>,   // its texels along x, y, z
}

@group(0) @binding(0) var<uniform> u: ViewUniform;
@group(0) @binding(1) var field: texture_3d<f32>;
@group(0) @binding(2) var labels: texture_3d<u32>;
@group(0) @binding(3) var<uniform> lut: array<vec4<f32>, 256>;
// A refined problem's finer levels at the finest edge (`render::levels`): a leaf's value, or
// NO_LEAF where no leaf of a finer level lies.
@group(0) @binding(4) var fine: texture_3d<f32>;
const NO_LEAF: f32 = -1.0e30;

const LABEL_OUTSIDE: u32 = 0u;
const FIRST_TISSUE: u32 = 3u;   // labels 1, 2: blood; 3, 4, 5: myocardium, border zone, infarct

struct VertexIn {
    @location(0) pos: vec3<f32>,
    @location(1) normal: vec3<f32>,
}

struct VertexOut {
    @builtin(position) clip_pos: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    // The field at the vertex (surface; -1 where no tissue is near), from `surface_values`.
    @location(2) value: f32,
}

// Cuts away what lies beyond the clipping plane (a pipeline without it lets the rasteriser
// test depth before shading).
override CLIP: bool = false;

@vertex
fn vs_surface(v: VertexIn, @location(2) value: f32) -> VertexOut {
    var out: VertexOut;
    out.clip_pos = u.view_proj * vec4<f32>(v.pos, 1.0);
    out.world = v.pos;
    out.normal = v.normal;
    out.value = value;
    return out;
}

@vertex
fn vs_slice(v: VertexIn) -> VertexOut {
    var out: VertexOut;
    out.clip_pos = u.view_proj * vec4<f32>(v.pos, 1.0);
    out.world = v.pos;
    out.normal = v.normal;
    out.value = 0.0;
    return out;
}

fn in_grid(c: vec3<i32>) -> bool {
    return all(c >= vec3<i32>(0)) && all(c < vec3<i32>(u.dims.xyz));
}

fn label_at(c: vec3<i32>) -> u32 {
    if (!in_grid(c)) {
        return LABEL_OUTSIDE;
    }
    return textureLoad(labels, c, 0).x;
}

// Grid coordinates of p (mm): voxel centres at integers.
fn grid_coords(p: vec3<f32>) -> vec3<f32> {
    return (p - u.origin.xyz) / u.origin.w - vec3<f32>(0.5);
}

// The field at p: trilinear over the tissue voxels among the eight around p, weights
// renormalised so that the surface does not blend in the empty outside or the blood; -1
// where none of the eight is tissue.
fn sample_field(p: vec3<f32>) -> f32 {
    if (u.fine_origin.w > 0.0) {
        let v = sample_fine(p);
        if (v > NO_LEAF) {
            return v;
        }
    }
    let g = grid_coords(p);
    let b = vec3<i32>(floor(g));
    let f = g - floor(g);
    var sum = 0.0;
    var wsum = 0.0;
    for (var k = 0; k < 8; k = k + 1) {
        let o = vec3<i32>(k & 1, (k >> 1u) & 1, (k >> 2u) & 1);
        let c = b + o;
        if (label_at(c) >= FIRST_TISSUE) {
            let t = mix(vec3<f32>(1.0) - f, f, vec3<f32>(o));
            let w = t.x * t.y * t.z;
            sum = sum + w * textureLoad(field, c, 0).x;
            wsum = wsum + w;
        }
    }
    if (wsum <= 0.0) {
        return -1.0;
    }
    return sum / wsum;
}

fn fine_at(c: vec3<i32>) -> f32 {
    if (any(c < vec3<i32>(0)) || any(c >= vec3<i32>(u.fine_dims.xyz))) {
        return NO_LEAF;
    }
    return textureLoad(fine, c, 0).x;
}

// The finer levels' field at p: where the texel holding p has a leaf's value, trilinear over
// the texels around p that do; NO_LEAF elsewhere.
fn sample_fine(p: vec3<f32>) -> f32 {
    let q = (p - u.fine_origin.xyz) / u.fine_origin.w;
    if (fine_at(vec3<i32>(floor(q))) <= NO_LEAF) {
        return NO_LEAF;
    }
    let g = q - vec3<f32>(0.5);
    let b = vec3<i32>(floor(g));
    let f = g - floor(g);
    var sum = 0.0;
    var wsum = 0.0;
    for (var k = 0; k < 8; k = k + 1) {
        let o = vec3<i32>(k & 1, (k >> 1u) & 1, (k >> 2u) & 1);
        let v = fine_at(b + o);
        if (v > NO_LEAF) {
            let t = mix(vec3<f32>(1.0) - f, f, vec3<f32>(o));
            let w = t.x * t.y * t.z;
            sum = sum + w * v;
            wsum = wsum + w;
        }
    }
    return sum / max(wsum, 1e-12);
}

// The colour map (sRGB) at concentration v, on the linear or log scale of `u.range`.
fn colour(v: f32) -> vec3<f32> {
    var x = v;
    if (u.range.z > 0.5) {
        x = log(max(v, 1e-30)) / log(10.0);
    }
    let t = clamp((x - u.range.x) / max(u.range.y - u.range.x, 1e-30), 0.0, 1.0);
    return lut[u32(t * 255.0 + 0.5)].rgb;
}

fn shade(base: vec3<f32>, n: vec3<f32>) -> vec3<f32> {
    let diffuse = abs(dot(normalize(n), u.light.xyz));
    return base * (u.light.w + (1.0 - u.light.w) * diffuse);
}

@fragment
fn fs_surface(in: VertexOut) -> @location(0) vec4<f32> {
    if (CLIP && dot(u.clip.xyz, in.world) + u.clip.w > 0.0) {
        discard;
    }
    var base = vec3<f32>(0.6, 0.6, 0.6);
    if (in.value >= 0.0) {
        base = colour(in.value);
    }
    return vec4<f32>(shade(base, in.normal), 1.0);
}

@fragment
fn fs_slice(in: VertexOut) -> @location(0) vec4<f32> {
    let g = grid_coords(in.world);
    let c = vec3<i32>(floor(g + vec3<f32>(0.5)));
    let l = label_at(c);
    if (l == LABEL_OUTSIDE) {
        discard;
    }
    var base = vec3<f32>(0.32, 0.08, 0.10);   // blood pools: dark red, not coloured by the map
    if (l >= FIRST_TISSUE) {
        base = colour(max(sample_field(in.world), 0.0));
        // Region outlines: darken within 0.12 voxel of a face to a voxel of another label.
        if ((u.dims.w & 1u) != 0u) {
            let d = g + vec3<f32>(0.5) - floor(g + vec3<f32>(0.5));
            for (var a = 0; a < 3; a = a + 1) {
                var e = vec3<i32>(0);
                e[a] = 1;
                let lo = d[a] < 0.12 && label_at(c - e) != l;
                let hi = d[a] > 0.88 && label_at(c + e) != l;
                if (lo || hi) {
                    base = base * 0.35;
                }
            }
        }
    }
    return vec4<f32>(shade(base, in.normal) * 0.5 + base * 0.5, 1.0);
}

// The field at every vertex of the surface, computed once per field update (in parallel)
// rather than in the vertex stage of every frame: the surface's vertices are about a voxel
// apart, as fine as the field itself.
@group(1) @binding(0) var<storage, read> surface_points: array<f32>;   // position, normal
@group(1) @binding(1) var<storage, read_write> surface_values: array<f32>;

@compute @workgroup_size(64)
fn surface_field(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = id.x + id.y * groups.x * 64u;
    if (i >= arrayLength(&surface_points) / 6u || i >= arrayLength(&surface_values)) {
        return;
    }
    let p = vec3<f32>(surface_points[6u * i], surface_points[6u * i + 1u], surface_points[6u * i + 2u]);
    surface_values[i] = sample_field(p);
}
