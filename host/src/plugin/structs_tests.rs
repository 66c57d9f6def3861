//! Tests of `structs.rs`.

use abi_stable::StableAbi;

use super::*;

#[repr(C)]
#[derive(StableAbi)]
struct Particle {
    pos: [f32; 2],
    id: u32,
    alive: bool,
    next: *const u8,
    log: extern "C" fn(i32),
}

/// Two builds of one interface: the host's, and a Rust plugin's whose
/// nested struct has its fields swapped, or one retyped at the same
/// size.
mod host {
    use abi_stable::StableAbi;
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Inner {
        pub a: i32,
        pub b: f32,
    }
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Body {
        pub id: i32,
        pub inner: Inner,
        pub pair: [Inner; 2],
    }
}
mod swapped {
    use abi_stable::StableAbi;
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Inner {
        pub b: f32,
        pub a: i32,
    }
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Body {
        pub id: i32,
        pub inner: Inner,
        pub pair: [Inner; 2],
    }
}
mod retyped {
    use abi_stable::StableAbi;
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Inner {
        pub a: i32,
        pub b: i32,
    }
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Body {
        pub id: i32,
        pub inner: Inner,
        pub pair: [Inner; 2],
    }
}

fn rust_plugin(layout: &'static TypeLayout) -> PluginStruct {
    PluginStruct {
        name: StructName::new(&"Body"),
        size: layout.size(),
        align: layout.alignment(),
        layout: PluginLayout::Rust(RustLayout(layout)),
    }
}

#[test]
fn a_rust_build_whose_nested_struct_differs_is_refused_naming_the_nested_field() {
    let ours = HostStruct::new(StructName::new(&"Body"), host::Body::LAYOUT);
    let nested = &ours.fields[1];
    assert_eq!(nested.to_string(), "struct `Inner`");
    assert_eq!(ours.fields[2].to_string(), "[struct `Inner`; 2]");
    assert_eq!(ours.compare(&rust_plugin(host::Body::LAYOUT)), Ok(()));
    assert_eq!(
        ours.compare(&rust_plugin(swapped::Body::LAYOUT)),
        Err("field 0 of `Body.inner` is `a` in the host, `b` in the plugin".into())
    );
    assert_eq!(
        ours.compare(&rust_plugin(retyped::Body::LAYOUT)),
        Err("field `b` of `Body.inner` is f32 in the host, i32 in the plugin".into())
    );
}

/// A layout whose nested struct is itself: refused at the nesting
/// limit, not followed for ever.
#[test]
fn a_layout_that_nests_itself_is_refused_at_the_nesting_limit() {
    struct Table([*const HsStructLayout; 1]);
    // SAFETY: immutable pointers to immutable statics.
    unsafe impl Sync for Table {}
    struct Fields([HsField; 1]);
    // SAFETY: as above.
    unsafe impl Sync for Fields {}
    static FIELDS: Fields = Fields([HsField {
        name: HsStr::from_str("me"),
        offset: 0,
        size: 8,
        kind: hotslot_plugin_api::HS_FIELD_STRUCT,
        count: 1,
    }]);
    static LAYOUTS: Table = Table([&raw const LOOP]);
    static LOOP: HsStructLayout = HsStructLayout {
        struct_size: size_of::<HsStructLayout>() as u32,
        name: HsStr::from_str("Loop"),
        size: 8,
        align: 8,
        fields: FIELDS.0.as_ptr(),
        field_count: 1,
        rust_layout: std::ptr::null(),
        field_layouts: LAYOUTS.0.as_ptr(),
    };
    // SAFETY: the statics above are readable for the lengths they give.
    let e = unsafe { read_struct(&raw const LOOP) }.unwrap_err();
    assert_eq!(
        e,
        "`Loop.me.me.me.me.me.me.me.me.me.me.me.me.me.me.me.me` nests structs deeper than 16"
    );
}

#[test]
fn the_host_derives_what_a_c_compiler_lays_out() {
    let host = HostStruct::new(StructName::new(&"Particle"), Particle::LAYOUT);
    let shown: Vec<String> = host
        .fields
        .iter()
        .map(|f| format!("{} {} {} {f}", f.name, f.offset, f.size))
        .collect();
    assert_eq!(
        shown,
        [
            "pos 0 8 [f32; 2]",
            "id 8 4 u32",
            "alive 12 1 bool",
            "next 16 8 8 bytes",
            "log 24 8 8 bytes"
        ]
    );
}
