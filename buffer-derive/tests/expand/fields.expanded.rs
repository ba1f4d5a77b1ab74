const _: () = {
    #[automatically_derived]
    impl ::buffer_runtime::PyBuffer for Image {
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
                    if ::buffer_runtime::Dim::to_dim(self.height).is_none()
                        | ::buffer_runtime::Dim::to_dim(self.width).is_none()
                    {
                        let _ = ::buffer_runtime::__private::dim_of(
                            ::buffer_runtime::Dim::to_dim(self.height),
                            ::buffer_runtime::Dim::to_i128(self.height),
                            "height",
                        )?;
                        let _ = ::buffer_runtime::__private::dim_of(
                            ::buffer_runtime::Dim::to_dim(self.width),
                            ::buffer_runtime::Dim::to_i128(self.width),
                            "width",
                        )?;
                    }
                    let __shape: [::core::primitive::usize; 3usize] = [
                        ::buffer_runtime::Dim::to_dim_tested(self.height),
                        ::buffer_runtime::Dim::to_dim_tested(self.width),
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
                },
            );
            ::buffer_runtime::__private::explained(
                __described,
                __quick,
                |__e| ::buffer_runtime::__private::explain(
                    __e,
                    &::buffer_runtime::__private::Annotation {
                        field: "pixels",
                        shape: ::core::option::Option::Some(::buffer_runtime::__private::Key {
                            text: "[height, width, { CHANNELS }]",
                            values: ::buffer_runtime::__private::Values::Listed(
                                &[
                                    ::buffer_runtime::Dim::to_i128(self.height),
                                    ::buffer_runtime::Dim::to_i128(self.width),
                                    ({
                                        #[allow(unused_braces)]
                                        const __D: ::core::primitive::usize = { CHANNELS };
                                        __D
                                    } as ::core::primitive::i128),
                                ],
                            ),
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
    impl ::buffer_runtime::__private::Pickle for Image {
        #[inline]
        fn __storage(
            &self,
        ) -> ::core::option::Option<&dyn ::buffer_runtime::__private::PickleDyn> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{NotPickleDyn as _, ViaPickleDyn as _};
            (&::buffer_runtime::__private::Probe(&self.pixels)).__pickle_dyn()
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
            >; 4usize] = [
                (&::buffer_runtime::__private::Probe(&self.height)).__to_py(__py)?,
                (&::buffer_runtime::__private::Probe(&self.width)).__to_py(__py)?,
                (&::buffer_runtime::__private::Probe(&self.order)).__to_py(__py)?,
                (&::buffer_runtime::__private::Probe(&self.locked)).__to_py(__py)?,
            ];
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
            ::buffer_runtime::__private::expect_fields(__fields, 4usize, "Image")?;
            let __probe = ::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                &__s.pixels
            });
            ::core::result::Result::Ok(Self {
                pixels: (&__probe).__unpickle_storage(__data, __meta)?,
                height: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    0usize,
                    "height",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.height
                        }))
                            .__from_py(__item)
                    },
                )?,
                width: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    1usize,
                    "width",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.width
                        }))
                            .__from_py(__item)
                    },
                )?,
                order: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    2usize,
                    "order",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.order
                        }))
                            .__from_py(__item)
                    },
                )?,
                locked: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    3usize,
                    "locked",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.locked
                        }))
                            .__from_py(__item)
                    },
                )?,
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
            ::buffer_runtime::__private::expect_fields(__fields, 4usize, "Image")?;
            ::core::result::Result::Ok(Self {
                pixels: (&::buffer_runtime::__private::Probe(&self.pixels))
                    .__duplicate_storage()?,
                height: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    0usize,
                    "height",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.height
                        }))
                            .__from_py(__item)
                    },
                )?,
                width: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    1usize,
                    "width",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.width
                        }))
                            .__from_py(__item)
                    },
                )?,
                order: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    2usize,
                    "order",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.order
                        }))
                            .__from_py(__item)
                    },
                )?,
                locked: ::buffer_runtime::__private::field_from_py(
                    __fields,
                    3usize,
                    "locked",
                    |__item| {
                        (&::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                            &__s.locked
                        }))
                            .__from_py(__item)
                    },
                )?,
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
        storage(::buffer_runtime::__private::Facts::<u8>::field_type::<SharedVec<u8>>());
        fn writable<S: ?::core::marker::Sized + ::buffer_runtime::WritableStorage>(
            _: ::core::marker::PhantomData<S>,
        ) {}
        writable(
            ::buffer_runtime::__private::Facts::<u8>::field_type::<SharedVec<u8>>(),
        );
    }
    #[allow(dead_code, unused_imports)]
    fn __buffer_slots() {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        fn buffer_methods<T: ::buffer_runtime::BufferSlots>(
            _: ::core::marker::PhantomData<T>,
        ) {}
        buffer_methods(::buffer_runtime::__private::Facts::<Image>::py_class());
    }
};
