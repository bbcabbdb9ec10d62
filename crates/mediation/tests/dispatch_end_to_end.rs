//! End-to-end dispatch over a table of several APIs and proxies: versioned (url and context),
//! overlapping contexts, a root-context API, url-mapping + uri-template + default resources.
//! Expectations follow SYN:`api/ApiUtils.java`, `api/API.java`, `api/version/*` and
//! `config/SynapseConfiguration.java` (ordering), and MI tests named per case.

use conflux_mediation::dispatch::{
    ApiDispatch, ApiMatch, ApiRoute, ApiTable, Protocol, ProxyTable, RequestHead, ResourceMatcher,
    ResourceRoute, UriTemplate, UrlMapping, VersionType,
};
use http::Method;

fn template(s: &str) -> ResourceMatcher {
    ResourceMatcher::UriTemplate(UriTemplate::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
}

fn mapping(s: &str) -> ResourceMatcher {
    ResourceMatcher::UrlMapping(UrlMapping::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
}

fn resource(methods: &[Method], matcher: ResourceMatcher) -> ResourceRoute {
    ResourceRoute {
        methods: methods.to_vec(),
        matcher,
        content_type: None,
        user_agent: None,
        protocol: None,
    }
}

fn api(
    name: &str,
    context: &str,
    version: Option<(&str, VersionType)>,
    resources: Vec<ResourceRoute>,
) -> ApiRoute {
    ApiRoute {
        name: name.into(),
        context: context.into(),
        version: version.map(|(v, _)| v.into()),
        version_type: version.map(|(_, t)| t),
        hostname: None,
        port: None,
        protocol: None,
        resources,
    }
}

const ROOT: usize = 0;
const SHOP: usize = 1;
const SHOP_ORDERS: usize = 2;
const STOCK_V1: usize = 3;
const STOCK_V2: usize = 4;
const CTX_V: usize = 5;
const LAST_QUERY: usize = 6;

fn build() -> ApiTable {
    ApiTable::build(vec![
        api(
            "Root",
            "/",
            None,
            vec![resource(&[], ResourceMatcher::Default)],
        ),
        api(
            "Shop",
            "/shop",
            None,
            vec![
                resource(&[Method::GET], template("/items/{id}")),
                resource(&[Method::GET], mapping("/items/*")),
                resource(&[Method::POST], template("/items")),
                resource(&[], ResourceMatcher::Default),
            ],
        ),
        api(
            "ShopOrders",
            "/shop/orders/",
            None,
            vec![resource(&[Method::GET], template("/{orderId}"))],
        ),
        api(
            "Stock",
            "/stock",
            Some(("1.0.0", VersionType::Url)),
            vec![resource(&[Method::GET], template("/quote/{sym}"))],
        ),
        api(
            "Stock",
            "/stock",
            Some(("2.0.0", VersionType::Url)),
            vec![resource(&[Method::GET], template("/quote/{sym}"))],
        ),
        api(
            "Ctx",
            "/ctx/{version}/svc",
            Some(("v3", VersionType::Context)),
            vec![resource(&[], template("/{+rest}"))],
        ),
        api(
            "LastQueryParamEmptyTestAPI",
            "/last-query-param-empty",
            None,
            vec![
                resource(
                    &[Method::GET],
                    template(
                        "/pattern1?latitude={+latitude}&longitude={+longitude}&floor={+floor}",
                    ),
                ),
                resource(&[Method::GET], template("/pattern2*")),
                resource(&[Method::GET], mapping("/pattern3/*")),
            ],
        ),
    ])
    .unwrap_or_else(|e| panic!("table: {e}"))
}

fn get<'p>(table: &ApiTable, path: &'p str) -> ApiDispatch<'p> {
    dispatch(table, &Method::GET, path)
}

fn dispatch<'p>(table: &ApiTable, method: &Method, path: &'p str) -> ApiDispatch<'p> {
    table.dispatch(&RequestHead {
        method,
        path_and_query: path,
        host: Some("localhost:8290".as_bytes()),
        scheme: Protocol::Http,
        content_type: None,
        user_agent: None,
        max_forwards: None,
        has_body: false,
    })
}

fn matched(d: ApiDispatch<'_>) -> ApiMatch<'_> {
    match d {
        ApiDispatch::Matched(m) => m,
        other => panic!("expected a match, got {other:?}"),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn longest_context_wins_and_root_catches_the_rest() {
    let t = build();
    let m = matched(get(&t, "/shop/orders/42"));
    assert_eq!(
        (m.api, m.uri_vars),
        (SHOP_ORDERS, pairs(&[("orderId", "42")]))
    );
    let m = matched(get(&t, "/shop/items/7?color=red+blue"));
    // The url-mapping "/items/*" takes it (see url_mapping_is_tried_before_uri_template).
    assert_eq!((m.api, m.resource), (SHOP, 1));
    assert_eq!(m.uri_vars, pairs(&[]));
    assert_eq!(m.query_params, pairs(&[("color", "red blue")]));
    assert_eq!(m.sub_path, "/items/7?color=red+blue");
    assert_eq!(m.rest_url_postfix, "/items/7?color=red+blue");
    assert_eq!(m.full_path, "/shop/items/7?color=red+blue");
    // "/shopping" is not under "/shop": only the root API takes it.
    let m = matched(get(&t, "/shopping"));
    assert_eq!(
        (m.api, m.sub_path, m.rest_url_postfix.as_ref()),
        (ROOT, "/shopping", "/shopping")
    );
}

#[test]
fn url_mapping_is_tried_before_uri_template() {
    let t = build();
    // "/items/*" (url-mapping, defined second) wins over "/items/{id}" (uri-template, first)
    // for a path both accept: ApiUtils runs the url-mapping dispatcher first.
    let m = matched(get(&t, "/shop/items/7"));
    assert_eq!((m.api, m.resource), (SHOP, 1));
    let m = matched(get(&t, "/shop/items"));
    assert_eq!((m.api, m.resource), (SHOP, 1));
    let m = matched(dispatch(&t, &Method::POST, "/shop/items"));
    assert_eq!((m.api, m.resource), (SHOP, 2));
    // Anything else goes to the default resource, with any method.
    let m = matched(dispatch(&t, &Method::DELETE, "/shop/basket"));
    assert_eq!((m.api, m.resource, m.sub_path), (SHOP, 3, "/basket"));
    let m = matched(get(&t, "/shop"));
    assert_eq!(
        (m.resource, m.sub_path, m.rest_url_postfix.as_ref()),
        (3, "/", "")
    );
}

#[test]
fn url_versioned_apis() {
    let t = build();
    let m = matched(get(&t, "/stock/2.0.0/quote/IBM?x=1"));
    assert_eq!(
        (m.api, m.uri_vars.clone()),
        (STOCK_V2, pairs(&[("sym", "IBM")]))
    );
    assert_eq!(
        (m.sub_path, m.rest_url_postfix.as_ref()),
        ("/quote/IBM?x=1", "/quote/IBM?x=1")
    );
    assert_eq!(matched(get(&t, "/stock/1.0.0/quote/WSO2")).api, STOCK_V1);
    // Unknown version: no versioned API claims it, the root API does.
    assert_eq!(matched(get(&t, "/stock/3.0.0/quote/IBM")).api, ROOT);
    // A version with nothing after it: sub-path "/" does not fit "/quote/{sym}".
    assert_eq!(
        get(&t, "/stock/1.0.0"),
        ApiDispatch::NoResource {
            api: STOCK_V1,
            status: 404,
            allow: vec![]
        }
    );
}

#[test]
fn context_versioned_api() {
    let t = build();
    assert_eq!(t.context_of(CTX_V), Some("/ctx/v3/svc"));
    let m = matched(dispatch(&t, &Method::PUT, "/ctx/v3/svc/a/b?c=d"));
    assert_eq!(m.api, CTX_V);
    assert_eq!(m.uri_vars, pairs(&[("rest", "a/b?c=d")]));
    assert_eq!(m.rest_url_postfix, "/a/b?c=d");
    assert_eq!(matched(get(&t, "/ctx/v2/svc/a")).api, ROOT);
}

/// MI test `LastQueryParamEmptyTestCase`: expected statuses 200/200/404/200/200/200.
#[test]
fn last_query_param_empty_test_case() {
    let t = build();
    let base = "/last-query-param-empty";
    let path = format!("{base}/pattern1?latitude=10&longitude=20&floor=");
    let m = matched(get(&t, &path));
    assert_eq!(m.resource, 0);
    assert_eq!(
        m.query_params,
        pairs(&[("latitude", "10"), ("longitude", "20"), ("floor", "")])
    );
    let path = format!("{base}/pattern1?latitude=&longitude=20&floor=30");
    let m = matched(get(&t, &path));
    assert_eq!(
        m.uri_vars,
        pairs(&[("latitude", ""), ("longitude", "20"), ("floor", "30")])
    );
    assert_eq!(
        get(
            &t,
            &format!("{base}/pattern1?latitude=10&longitude=20&floor")
        ),
        ApiDispatch::NoResource {
            api: LAST_QUERY,
            status: 404,
            allow: vec![]
        }
    );
    let path = format!("{base}/pattern2?latitude=10&longitude=20&floor");
    let m = matched(get(&t, &path));
    assert_eq!(m.resource, 1);
    assert_eq!(
        m.query_params,
        pairs(&[("latitude", "10"), ("longitude", "20&floor")])
    );
    let path = format!("{base}/pattern3/sample?latitude=10&longitude=20&floor");
    let m = matched(get(&t, &path));
    assert_eq!(m.resource, 2);
}

/// MI test `ESBJAVA4176MethodNotAllowedTest` (405) and the OPTIONS answer of `Resource.sendOptions`.
#[test]
fn no_resource_answers() {
    let t = build();
    assert_eq!(
        dispatch(&t, &Method::POST, "/stock/1.0.0/quote/IBM"),
        ApiDispatch::NoResource {
            api: STOCK_V1,
            status: 405,
            allow: vec![Method::GET]
        }
    );
    assert_eq!(
        dispatch(&t, &Method::OPTIONS, "/stock/1.0.0/quote/IBM"),
        ApiDispatch::Options {
            api: STOCK_V1,
            resource: 0,
            allow: "GET".into()
        }
    );
    assert_eq!(
        dispatch(&t, &Method::POST, "/shop/orders/1"),
        ApiDispatch::NoResource {
            api: SHOP_ORDERS,
            status: 405,
            allow: vec![Method::GET]
        }
    );
}

#[test]
fn proxies_are_dispatched_before_apis() {
    let proxies = ProxyTable::build(vec!["StockQuoteProxy".into()]);
    let t = build();
    let target = "/services/StockQuoteProxy/getQuote?symbol=IBM";
    let p = proxies
        .dispatch(target)
        .unwrap_or_else(|| panic!("proxy expected"));
    assert_eq!((p.proxy, p.rest_url_postfix), (0, "/getQuote?symbol=IBM"));
    // A /services path naming no proxy falls through to the APIs (here the root API).
    assert!(proxies.dispatch("/services/Nope").is_none());
    assert_eq!(matched(get(&t, "/services/Nope")).api, ROOT);
}
