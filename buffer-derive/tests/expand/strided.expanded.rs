const _: () = {
    #[automatically_derived]
    impl ::my_runtime::PyBuffer for Flipped {
        #[inline(always)]
        fn __export<'__a>(
            &'__a self,
            __ex: ::my_runtime::__private::Exporter<'__a>,
        ) -> ::core::result::Result<
            ::my_runtime::__private::Exported,
            ::my_runtime::ExportError,
        > {
            #[allow(unused_imports)]
            use ::my_runtime::__private::{NotStorage as _, ViaStorage as _};
            let __quick = __ex.quick();
            let __described = ::my_runtime::__private::run(
                #[inline(always)]
                || -> ::core::result::Result<
                    ::my_runtime::__private::Exported,
                    ::my_runtime::ExportError,
                > {
                    let __shape: [::core::primitive::usize; 2usize] = [
                        {
                            const __D: ::core::primitive::usize = 2;
                            __D
                        },
                        {
                            const __D: ::core::primitive::usize = 3;
                            __D
                        },
                    ];
                    let __strides: [::core::primitive::isize; 2usize] = [
                        {
                            const __S: ::core::primitive::isize = -24;
                            __S
                        },
                        {
                            const __S: ::core::primitive::isize = 8;
                            __S
                        },
                    ];
                    (&::my_runtime::__private::Probe(&self.cells))
                        .__buffer_export(
                            __ex,
                            ::my_runtime::__private::Shape::Dims(&__shape),
                            ::my_runtime::__private::Strides::Bytes {
                                strides: &__strides,
                                offset: {
                                    const __S: ::core::primitive::isize = 24;
                                    __S
                                },
                            },
                            true,
                        )
                },
            );
            ::my_runtime::__private::explained(
                __described,
                __quick,
                |__e| ::my_runtime::__private::explain(
                    __e,
                    &::my_runtime::__private::Annotation {
                        field: "cells",
                        shape: ::core::option::Option::Some(::my_runtime::__private::Key {
                            text: "[2, 3]",
                            values: ::my_runtime::__private::Values::Listed(&[2, 3]),
                        }),
                        strides: ::core::option::Option::Some(::my_runtime::__private::Key {
                            text: "[-24, 8]",
                            values: ::my_runtime::__private::Values::Listed(&[-24, 8]),
                        }),
                        offset: ::core::option::Option::Some(::my_runtime::__private::Key {
                            text: "24",
                            values: ::my_runtime::__private::Values::One(24),
                        }),
                    },
                ),
            )
        }
        #[inline(always)]
        fn __type_cell() -> &'static ::my_runtime::__private::TypeCell {
            static CELL: ::my_runtime::__private::TypeCell = ::my_runtime::__private::TypeCell::new();
            &CELL
        }
    }
    #[automatically_derived]
    impl ::my_runtime::__private::Pickle for Flipped {
        #[inline]
        fn __storage(
            &self,
        ) -> ::core::option::Option<&dyn ::my_runtime::__private::PickleDyn> {
            #[allow(unused_imports)]
            use ::my_runtime::__private::{NotPickleDyn as _, ViaPickleDyn as _};
            (&::my_runtime::__private::Probe(&self.cells)).__pickle_dyn()
        }
        fn __fields<'py>(
            &self,
            __py: ::my_runtime::__private::pyo3::Python<'py>,
        ) -> ::my_runtime::__private::pyo3::PyResult<
            ::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::types::PyTuple,
            >,
        > {
            #[allow(unused_imports)]
            use ::my_runtime::__private::{BoxedIntoPy as _, ViaIntoPy as _};
            let __values: [::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::PyAny,
            >; 0usize] = [];
            ::my_runtime::__private::pyo3::types::PyTuple::new(__py, __values)
        }
        fn __unpickle(
            __data: &::my_runtime::__private::pyo3::Bound<
                '_,
                ::my_runtime::__private::pyo3::PyAny,
            >,
            __meta: &::my_runtime::__private::pyo3::Bound<
                '_,
                ::my_runtime::__private::pyo3::PyAny,
            >,
            __fields: &::my_runtime::__private::pyo3::Bound<
                '_,
                ::my_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::my_runtime::__private::pyo3::PyResult<Self> {
            #[allow(unused_imports)]
            use ::my_runtime::__private::{
                BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _,
            };
            ::my_runtime::__private::expect_fields(__fields, 0usize, "Flipped")?;
            let __probe = ::my_runtime::__private::TypeProbe::of(|__s: &Self| {
                &__s.cells
            });
            ::core::result::Result::Ok(Self {
                cells: (&__probe).__unpickle_storage(__data, __meta)?,
            })
        }
        fn __duplicate(
            &self,
            __fields: &::my_runtime::__private::pyo3::Bound<
                '_,
                ::my_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::my_runtime::__private::pyo3::PyResult<Self> {
            #[allow(unused_imports)]
            use ::my_runtime::__private::{
                BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _,
            };
            ::my_runtime::__private::expect_fields(__fields, 0usize, "Flipped")?;
            ::core::result::Result::Ok(Self {
                cells: (&::my_runtime::__private::Probe(&self.cells))
                    .__duplicate_storage()?,
            })
        }
    }
    #[allow(dead_code, unused_imports)]
    fn __buffer_checks() {
        #[allow(unused_imports)]
        use ::my_runtime::__private::NotFacts as _;
        let _ = <f64 as ::my_runtime::Shaped>::HAS_PADDING;
        fn storage<S: ?::core::marker::Sized + ::my_runtime::Storage>(
            _: ::core::marker::PhantomData<S>,
        ) {}
        storage(::my_runtime::__private::Facts::<f64>::field_type::<[[f64; 3]; 2]>());
    }
    const _: () = {
        #[allow(unused_imports)]
        use ::my_runtime::__private::NotFacts as _;
        ::core::assert!(
            ! ::my_runtime::__private::Facts:: < f64 > ::HAS_PADDING,
            "these elements have padding bytes, which plain storage would show Python uninitialised: store them in `SharedVec`/`SharedArray` (they zero padding) or add explicit padding fields",
        );
    };
    const _: () = {
        #[allow(unused_imports)]
        use ::my_runtime::__private::NotFacts as _;
        if let (
            ::core::option::Option::Some(__count),
            ::core::option::Option::Some(__itemsize),
        ) = (
            ::my_runtime::__private::Facts::<[[f64; 3]; 2]>::FIXED_COUNT,
            ::my_runtime::__private::Facts::<f64>::ITEMSIZE,
        ) {
            ::core::assert!(
                ::my_runtime::__private::strided_fits(& [{ const __D :
                ::core::primitive::usize = 2; __D }, { const __D :
                ::core::primitive::usize = 3; __D }], & [{ const __S :
                ::core::primitive::isize = - 24; __S }, { const __S :
                ::core::primitive::isize = 8; __S }], { const __S :
                ::core::primitive::isize = 24; __S }, __itemsize, __count),
                "`strides` and `offset` reach outside the field's array for this `shape`",
            );
        }
    };
    #[allow(dead_code, unused_imports)]
    fn __buffer_slots() {
        #[allow(unused_imports)]
        use ::my_runtime::__private::NotFacts as _;
        fn buffer_methods<T: ::my_runtime::BufferSlots>(
            _: ::core::marker::PhantomData<T>,
        ) {}
        buffer_methods(::my_runtime::__private::Facts::<Flipped>::py_class());
    }
};
#[pymethods]
impl Flipped {
    /// `bf_getbuffer`, generated by `#[buffer_methods]`.
    unsafe fn __getbuffer__(
        slf: &::my_runtime::__private::pyo3::Bound<'_, Self>,
        view: *mut ::my_runtime::__private::pyo3::ffi::Py_buffer,
        flags: ::std::os::raw::c_int,
    ) -> ::my_runtime::__private::pyo3::PyResult<()> {
        #[allow(unused_imports)]
        use ::my_runtime::__private::NotSlots as _;
        let _ = <Self as ::my_runtime::PyBuffer>::__export;
        unsafe { ::my_runtime::__private::Slots::<Self>::getbuffer(slf, view, flags) }
    }
    /// `bf_releasebuffer`, generated by `#[buffer_methods]`.
    unsafe fn __releasebuffer__(
        slf: &::my_runtime::__private::pyo3::Bound<'_, Self>,
        view: *mut ::my_runtime::__private::pyo3::ffi::Py_buffer,
    ) {
        #[allow(unused_imports)]
        use ::my_runtime::__private::NotSlots as _;
        unsafe { ::my_runtime::__private::Slots::<Self>::releasebuffer(slf, view) }
    }
    /// Pickle, copy and DLPack support, generated by `#[buffer_methods]`: computed once,
    /// when the type is created, it installs `__reduce_ex__`, `__copy__`, `__deepcopy__`,
    /// `__dlpack__` and `__dlpack_device__`, and is the classmethod that rebuilds a pickled
    /// object.
    #[classattr]
    fn _buffer_restore(
        py: ::my_runtime::__private::pyo3::Python<'_>,
    ) -> ::my_runtime::__private::pyo3::PyResult<
        ::my_runtime::__private::pyo3::Py<::my_runtime::__private::pyo3::PyAny>,
    > {
        ::my_runtime::__private::install_methods::<Self>(py)
    }
}
const _: () = {
    #[allow(unused_imports)]
    use ::my_runtime::__private::NotPickling as _;
    #[automatically_derived]
    impl ::my_runtime::__private::ClassMethods for Flipped {
        fn install_slots(
            py: ::my_runtime::__private::pyo3::Python<'_>,
        ) -> ::my_runtime::__private::pyo3::PyResult<()> {
            #[allow(unused_imports)]
            use ::my_runtime::__private::NotSlots as _;
            ::my_runtime::__private::Slots::<Self>::install(py)
        }
        fn reduce_ex<'py>(
            slf: &::my_runtime::__private::pyo3::Bound<'py, Self>,
            protocol: i64,
        ) -> ::my_runtime::__private::pyo3::PyResult<
            ::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::PyAny,
            >,
        > {
            ::my_runtime::__private::Pickling::<Self>::reduce_ex(slf, protocol)
        }
        fn restore<'py>(
            cls: &::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::types::PyType,
            >,
            data: &::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::PyAny,
            >,
            meta: &::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::PyAny,
            >,
            fields: &::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::my_runtime::__private::pyo3::PyResult<
            ::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::PyAny,
            >,
        > {
            ::my_runtime::__private::Pickling::<Self>::restore(cls, data, meta, fields)
        }
        fn copy<'py>(
            slf: &::my_runtime::__private::pyo3::Bound<'py, Self>,
            memo: ::core::option::Option<
                &::my_runtime::__private::pyo3::Bound<
                    'py,
                    ::my_runtime::__private::pyo3::PyAny,
                >,
            >,
        ) -> ::my_runtime::__private::pyo3::PyResult<
            ::my_runtime::__private::pyo3::Bound<
                'py,
                ::my_runtime::__private::pyo3::PyAny,
            >,
        > {
            ::my_runtime::__private::Pickling::<Self>::copy(slf, memo)
        }
    }
};
const _: () = {
    #[automatically_derived]
    impl ::my_runtime::__private::BufferSlots for Flipped {}
};
