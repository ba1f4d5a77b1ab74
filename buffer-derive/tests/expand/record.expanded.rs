const _: () = {
    #[allow(unused_imports)]
    use ::buffer_runtime::__private::NotField as _;
    const _: ::core::primitive::bool = <f64 as ::buffer_runtime::Shaped>::HAS_PADDING;
    const _: ::core::primitive::bool = <u8 as ::buffer_runtime::Shaped>::HAS_PADDING;
    const _: ::core::primitive::bool = <[f32; 3] as ::buffer_runtime::Shaped>::HAS_PADDING;
    const __FIELDS: &[::buffer_runtime::__private::Field] = &[
        ::buffer_runtime::__private::field(
            ::buffer_runtime::__private::Facts::<f64>::FIELD,
            "mass",
            ::core::mem::offset_of!(Particle, mass),
        ),
        ::buffer_runtime::__private::field(
            ::buffer_runtime::__private::Facts::<u8>::FIELD,
            "type",
            ::core::mem::offset_of!(Particle, r#type),
        ),
        ::buffer_runtime::__private::field(
            ::buffer_runtime::__private::Facts::<[f32; 3]>::FIELD,
            "pos",
            ::core::mem::offset_of!(Particle, pos),
        ),
    ];
    const __SIZE: ::core::primitive::usize = ::core::mem::size_of::<Particle>();
    const __ALIGN: ::core::primitive::usize = ::core::mem::align_of::<Particle>();
    const __LEN: ::core::primitive::usize = ::buffer_runtime::__private::format_len(
        __FIELDS,
        __SIZE,
        __ALIGN,
    );
    const __FORMAT: [u8; __LEN] = ::buffer_runtime::__private::format_bytes::<
        __LEN,
    >(__FIELDS, __SIZE, __ALIGN);
    #[automatically_derived]
    unsafe impl ::buffer_runtime::Element for Particle {
        const FORMAT: &'static ::core::ffi::CStr = ::buffer_runtime::__private::as_cstr(
            &__FORMAT,
        );
        #[inline]
        unsafe fn load(p: *const Self) -> Self {
            let __record = p.cast::<u8>();
            unsafe {
                Particle {
                    mass: ::buffer_runtime::__private::Facts::<
                        f64,
                    >::load_field(__record, ::core::mem::offset_of!(Particle, mass)),
                    r#type: ::buffer_runtime::__private::Facts::<
                        u8,
                    >::load_field(__record, ::core::mem::offset_of!(Particle, r#type)),
                    pos: ::buffer_runtime::__private::Facts::<
                        [f32; 3],
                    >::load_field(__record, ::core::mem::offset_of!(Particle, pos)),
                }
            }
        }
        const HAS_PADDING: bool = ::buffer_runtime::__private::has_padding(
            __FIELDS,
            __SIZE,
        );
        #[inline]
        unsafe fn clear_padding(p: *mut Self) {
            if <Self as ::buffer_runtime::Element>::HAS_PADDING {
                let __record = p.cast::<u8>();
                unsafe {
                    ::buffer_runtime::__private::clear_gaps(__record, __FIELDS, __SIZE);
                    ::buffer_runtime::__private::Facts::<
                        f64,
                    >::clear_padding(
                        __record
                            .add(::core::mem::offset_of!(Particle, mass))
                            .cast::<f64>(),
                    );
                    ::buffer_runtime::__private::Facts::<
                        u8,
                    >::clear_padding(
                        __record
                            .add(::core::mem::offset_of!(Particle, r#type))
                            .cast::<u8>(),
                    );
                    ::buffer_runtime::__private::Facts::<
                        [f32; 3],
                    >::clear_padding(
                        __record
                            .add(::core::mem::offset_of!(Particle, pos))
                            .cast::<[f32; 3]>(),
                    );
                }
            }
        }
    }
};
const _: () = {
    #[allow(unused_imports)]
    use ::my_runtime::__private::NotField as _;
    const _: ::core::primitive::bool = <u8 as ::my_runtime::Shaped>::HAS_PADDING;
    const _: ::core::primitive::bool = <u32 as ::my_runtime::Shaped>::HAS_PADDING;
    const __FIELDS: &[::my_runtime::__private::Field] = &[
        ::my_runtime::__private::field(
            ::my_runtime::__private::Facts::<u8>::FIELD,
            "",
            ::core::mem::offset_of!(Pair, 0),
        ),
        ::my_runtime::__private::field(
            ::my_runtime::__private::Facts::<u32>::FIELD,
            "",
            ::core::mem::offset_of!(Pair, 1),
        ),
    ];
    const __SIZE: ::core::primitive::usize = ::core::mem::size_of::<Pair>();
    const __ALIGN: ::core::primitive::usize = ::core::mem::align_of::<Pair>();
    const __LEN: ::core::primitive::usize = ::my_runtime::__private::format_len(
        __FIELDS,
        __SIZE,
        __ALIGN,
    );
    const __FORMAT: [u8; __LEN] = ::my_runtime::__private::format_bytes::<
        __LEN,
    >(__FIELDS, __SIZE, __ALIGN);
    #[automatically_derived]
    unsafe impl ::my_runtime::Element for Pair {
        const FORMAT: &'static ::core::ffi::CStr = ::my_runtime::__private::as_cstr(
            &__FORMAT,
        );
        #[inline]
        unsafe fn load(p: *const Self) -> Self {
            let __record = p.cast::<u8>();
            unsafe {
                Pair {
                    0: ::my_runtime::__private::Facts::<
                        u8,
                    >::load_field(__record, ::core::mem::offset_of!(Pair, 0)),
                    1: ::my_runtime::__private::Facts::<
                        u32,
                    >::load_field(__record, ::core::mem::offset_of!(Pair, 1)),
                }
            }
        }
        const HAS_PADDING: bool = ::my_runtime::__private::has_padding(__FIELDS, __SIZE);
        #[inline]
        unsafe fn clear_padding(p: *mut Self) {
            if <Self as ::my_runtime::Element>::HAS_PADDING {
                let __record = p.cast::<u8>();
                unsafe {
                    ::my_runtime::__private::clear_gaps(__record, __FIELDS, __SIZE);
                    ::my_runtime::__private::Facts::<
                        u8,
                    >::clear_padding(
                        __record.add(::core::mem::offset_of!(Pair, 0)).cast::<u8>(),
                    );
                    ::my_runtime::__private::Facts::<
                        u32,
                    >::clear_padding(
                        __record.add(::core::mem::offset_of!(Pair, 1)).cast::<u32>(),
                    );
                }
            }
        }
    }
};
