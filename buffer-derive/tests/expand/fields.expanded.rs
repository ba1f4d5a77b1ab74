const _: () = {
    #[automatically_derived]
    impl ::buffer_runtime::PyBuffer for Image {
        #[inline]
        fn __export<'__a>(
            &'__a self,
            __ex: ::buffer_runtime::__private::Exporter<'__a>,
        ) -> ::core::result::Result<
            ::buffer_runtime::__private::Exported,
            ::buffer_runtime::ExportError,
        > {
            use ::buffer_runtime::__private::{NotStorage as _, ViaStorage as _};
            let __shape: [::core::primitive::usize; 3usize] = [
                ::buffer_runtime::__private::dim(self.height, "height")?,
                ::buffer_runtime::__private::dim(self.width, "width")?,
                {
                    #[allow(unused_braces)]
                    const __D: ::core::primitive::usize = { CHANNELS };
                    __D
                },
            ];
            (&::buffer_runtime::__private::Probe(&self.pixels))
                .__buffer_export(
                    __ex,
                    ::buffer_runtime::__private::Shape::Dims(&__shape),
                    ::buffer_runtime::__private::Strides::Order({
                        let __order: ::buffer_runtime::Order = self.order;
                        __order
                    }),
                    {
                        let __readonly: ::core::primitive::bool = self.locked;
                        __readonly
                    },
                )
        }
    }
    #[allow(dead_code)]
    fn __buffer_checks() {
        use ::buffer_runtime::__private::FactsUnknown as _;
        ::buffer_runtime::__private::assert_shaped::<u8>();
        ::buffer_runtime::__private::Facts::<u8>::storage_of::<SharedVec<u8>>();
        ::buffer_runtime::__private::Facts::<u8>::writable_of::<SharedVec<u8>>();
    }
};
