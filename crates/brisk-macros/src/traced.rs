//! `#[brisk::traced]`: puts an `async fn` in the await chains of dumps.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, ReturnType, Token};

/// The attribute as the user writes it, for error messages.
const ATTR: &str = "`#[brisk::traced]`";

pub(crate) fn expand(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let (name, krate) = match parse_args(args) {
        Ok(parsed) => parsed,
        Err(err) => return with_error(err, item),
    };
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(err) => {
            let msg = format!("{ATTR} can only be applied to an `async fn`: {err}");
            return with_error(syn::Error::new(err.span(), msg), item);
        }
    };
    if func.sig.asyncness.is_none() {
        let msg = format!(
            "{ATTR} can only be applied to an `async fn`, and `{}` is not async: \
             write it as `async fn`, or mark the `async fn`s it calls",
            func.sig.ident
        );
        return with_error(syn::Error::new(func.sig.fn_token.span(), msg), item);
    }
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let ident = &sig.ident;
    let name = match name {
        Some(name) => quote!(#name),
        None => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#ident)
        )),
    };
    // `line!()`/`column!()` spanned at the name give the function's position.
    let pos = ident.span();
    let line = quote_spanned!(pos=> ::core::line!());
    let column = quote_spanned!(pos=> ::core::column!());
    let frame = syn::Ident::new("__BRISK_TRACED_FRAME", Span::mixed_site());

    // As in `#[brisk::main]`: a never-taken `return` of the declared type,
    // placed first, fixes the async block's output type so that `?` and
    // early `return`s coerce as they would in the `async fn` itself.
    let output_ty = match &sig.output {
        ReturnType::Default => Some(quote!(())),
        ReturnType::Type(_, ty)
            if !matches!(**ty, syn::Type::Never(_))
                && !crate::mentions_impl_trait(ty.to_token_stream()) =>
        {
            Some(ty.to_token_stream())
        }
        ReturnType::Type(..) => None,
    };
    let pin_output = output_ty.as_ref().map(|ty| {
        let never = syn::Ident::new("__brisk_never", Span::mixed_site());
        quote! {
            if let ::core::option::Option::Some(#never) = ::core::option::Option::<#ty>::None {
                return #never;
            }
        }
    });
    let label = syn::Lifetime::new("'__brisk_traced", Span::mixed_site());
    quote! {
        #(#attrs)*
        #vis #sig {
            static #frame: #krate::diag::Frame =
                #krate::diag::Frame::new(#name, ::core::file!(), #line, #column);
            #krate::diag::traced(&#frame, async move {
                #pin_output
                #label: #block
            })
            .await
        }
    }
}

/// Parses `name = "..."` and `crate = "path"`.
fn parse_args(args: TokenStream2) -> syn::Result<(Option<syn::LitStr>, syn::Path)> {
    let mut name = None;
    let mut krate: syn::Path = syn::parse_quote!(::brisk);
    let pairs = syn::punctuated::Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated
        .parse2(args)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("{ATTR} takes `name = \"...\"` and `crate = \"...\"`: {e}"),
            )
        })?;
    for pair in pairs {
        let key = pair
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        let lit = match &pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => s.clone(),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!("{ATTR}: `{key}` takes a string literal, e.g. `{key} = \"...\"`"),
                ))
            }
        };
        match key.as_str() {
            "name" => name = Some(lit),
            "crate" => krate = lit.parse()?,
            _ => {
                return Err(syn::Error::new(
                    pair.path.span(),
                    format!(
                        "{ATTR} has no argument `{key}`: it takes `name = \"...\"` \
                         (the name shown in dumps) and `crate = \"...\"` (the path to `brisk`)"
                    ),
                ))
            }
        }
    }
    Ok((name, krate))
}

fn with_error(err: syn::Error, item: TokenStream2) -> TokenStream2 {
    let mut out = err.to_compile_error();
    out.extend(item);
    out
}

#[cfg(test)]
mod tests {
    use super::expand;
    use quote::quote;

    fn errors(out: proc_macro2::TokenStream) -> String {
        out.to_string()
    }

    #[test]
    fn rejects_a_sync_fn_with_the_fix() {
        let out = errors(expand(
            quote!(),
            quote!(
                fn load() -> u32 {
                    1
                }
            ),
        ));
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("`load` is not async"), "{out}");
        assert!(out.contains("write it as `async fn`"), "{out}");
    }

    #[test]
    fn rejects_unknown_and_non_string_arguments() {
        let out = errors(expand(
            quote!(label = "x"),
            quote!(
                async fn f() {}
            ),
        ));
        assert!(out.contains("has no argument `label`"), "{out}");
        let out = errors(expand(
            quote!(name = 3),
            quote!(
                async fn f() {}
            ),
        ));
        assert!(out.contains("`name` takes a string literal"), "{out}");
    }

    #[test]
    fn wraps_the_body_and_keeps_the_signature() {
        let out = expand(
            quote!(name = "store::get"),
            quote!(
                pub async fn get(&self, key: &str) -> Option<u32> {
                    None
                }
            ),
        )
        .to_string();
        assert!(
            out.contains("pub async fn get (& self , key : & str) -> Option < u32 >"),
            "{out}"
        );
        assert!(out.contains(":: brisk :: diag :: traced"), "{out}");
        assert!(out.contains("\"store::get\""), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }
}
