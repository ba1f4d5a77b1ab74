const _: () = {
    #[automatically_derived]
    impl ::buffer_runtime::PyBuffer for Mat4 {
        #[inline(always)]
        fn __export<'__a>(
            &'__a self,
            __ex: ::buffer_runtime::__private::Exporter<'__a>,
        ) -> ::core::result::Result<
            ::buffer_runtime::__private::Exported,
            ::buffer_runtime::ExportError,
        > {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{NotStorage as _, ViaStorage as _};
            let __quick = __ex.quick();
            let __described = ::buffer_runtime::__private::run(
                #[inline(always)]
                || -> ::core::result::Result<
                    ::buffer_runtime::__private::Exported,
                    ::buffer_runtime::ExportError,
                > {
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
                },
            );
            ::buffer_runtime::__private::explained(
                __described,
                __quick,
                |__e| ::buffer_runtime::__private::explain(
                    __e,
                    &::buffer_runtime::__private::Annotation {
                        field: "cells",
                        shape: ::core::option::Option::Some(::buffer_runtime::__private::Key {
                            text: "[16]",
                            values: ::buffer_runtime::__private::Values::Listed(&[16]),
                        }),
                        strides: ::core::option::Option::None,
                        offset: ::core::option::Option::None,
                    },
                ),
            )
        }
        #[inline(always)]
        fn __type_cell() -> &'static ::buffer_runtime::__private::TypeCell {
            static CELL: ::buffer_runtime::__private::TypeCell = ::buffer_runtime::__private::TypeCell::new();
            &CELL
        }
    }
    #[automatically_derived]
    impl ::buffer_runtime::__private::Pickle for Mat4 {
        #[inline]
        fn __storage(
            &self,
        ) -> ::core::option::Option<&dyn ::buffer_runtime::__private::PickleDyn> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{NotPickleDyn as _, ViaPickleDyn as _};
            (&::buffer_runtime::__private::Probe(&self.cells)).__pickle_dyn()
        }
        fn __fields<'py>(
            &self,
            __py: ::buffer_runtime::__private::pyo3::Python<'py>,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<
            ::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        > {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{BoxedIntoPy as _, ViaIntoPy as _};
            let __values: [::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >; 0usize] = [];
            ::buffer_runtime::__private::pyo3::types::PyTuple::new(__py, __values)
        }
        fn __unpickle(
            __data: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
            __meta: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
            __fields: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<Self> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{
                BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _,
            };
            ::buffer_runtime::__private::expect_fields(__fields, 0usize, "Mat4")?;
            let __probe = ::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                &__s.cells
            });
            ::core::result::Result::Ok(Self {
                cells: (&__probe).__unpickle_storage(__data, __meta)?,
            })
        }
        fn __duplicate(
            &self,
            __fields: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<Self> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{
                BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _,
            };
            ::buffer_runtime::__private::expect_fields(__fields, 0usize, "Mat4")?;
            ::core::result::Result::Ok(Self {
                cells: (&::buffer_runtime::__private::Probe(&self.cells))
                    .__duplicate_storage()?,
            })
        }
    }
    #[allow(dead_code, unused_imports)]
    fn __buffer_checks() {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        fn storage<S: ?::core::marker::Sized + ::buffer_runtime::Storage>(
            _: ::core::marker::PhantomData<S>,
        ) {}
        storage(
            ::buffer_runtime::__private::Facts::<
                f32,
            >::field_type::<SharedArray<[[f32; 4]; 4]>>(),
        );
        fn writable<S: ?::core::marker::Sized + ::buffer_runtime::WritableStorage>(
            _: ::core::marker::PhantomData<S>,
        ) {}
        writable(
            ::buffer_runtime::__private::Facts::<
                f32,
            >::field_type::<SharedArray<[[f32; 4]; 4]>>(),
        );
    }
    const _: () = {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        if let ::core::option::Option::Some(__count) = ::buffer_runtime::__private::Facts::<
            SharedArray<[[f32; 4]; 4]>,
        >::FIXED_COUNT {
            ::core::assert!(
                __count == 1 * { const __D : ::core::primitive::usize = 16; __D },
                "the product of `shape` differs from the element count of the field's array type",
            );
        }
    };
    #[allow(dead_code, unused_imports)]
    fn __buffer_slots() {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        fn buffer_methods<T: ::buffer_runtime::BufferSlots>(
            _: ::core::marker::PhantomData<T>,
        ) {}
        buffer_methods(::buffer_runtime::__private::Facts::<Mat4>::py_class());
    }
};
