const _: () = {
    #[automatically_derived]
    impl ::buffer_runtime::PyBuffer for Mat4 {
        #[inline]
        fn __export<'__a>(
            &'__a self,
            __ex: ::buffer_runtime::__private::Exporter<'__a>,
        ) -> ::core::result::Result<
            ::buffer_runtime::__private::Exported,
            ::buffer_runtime::ExportError,
        > {
            use ::buffer_runtime::__private::{NotStorage as _, ViaStorage as _};
            let __shape: [::core::primitive::usize; 1usize] = [
                {
                    const __D: ::core::primitive::usize = 16;
                    __D
                },
            ];
            (&::buffer_runtime::__private::Probe(&self.cells))
                .__buffer_export(
                    __ex,
                    ::buffer_runtime::__private::Shape::Dims(&__shape),
                    ::buffer_runtime::__private::Strides::Order(
                        ::buffer_runtime::__private::Order::C,
                    ),
                    false,
                )
        }
    }
    #[allow(dead_code)]
    fn __buffer_checks() {
        use ::buffer_runtime::__private::FactsUnknown as _;
        ::buffer_runtime::__private::assert_shaped::<f32>();
        ::buffer_runtime::__private::Facts::<
            f32,
        >::storage_of::<SharedArray<[[f32; 4]; 4]>>();
        ::buffer_runtime::__private::Facts::<
            f32,
        >::writable_of::<SharedArray<[[f32; 4]; 4]>>();
    }
    const _: () = {
        use ::buffer_runtime::__private::FactsUnknown as _;
        if let ::core::option::Option::Some(__count) = ::buffer_runtime::__private::Facts::<
            SharedArray<[[f32; 4]; 4]>,
        >::FIXED_COUNT {
            ::core::assert!(
                __count == 1 * { const __D : ::core::primitive::usize = 16; __D },
                "the product of `shape` differs from the element count of the field's array type",
            );
        }
    };
};
