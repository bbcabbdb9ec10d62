//! `<endpoint><wsdl uri service port>` end to end through the real binary (SYN
//! `endpoints/WSDLEndpoint.java`, `config/xml/endpoints/WSDLEndpointFactory.java`,
//! `config/xml/endpoints/utils/WSDL11EndpointBuilder.java`): the WSDL is fetched once, at the first
//! send, the message goes to the port's `soap:address` / `soap12:address` in the port's SOAP
//! version, an inline `<wsdl:definitions>` needs no fetch, and a WSDL that cannot be fetched is a
//! send fault (101503) for the fault sequence.

mod support;

use support::backend::*;
use support::*;

const QUOTE_REQUEST: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:getQuote xmlns:m="http://services.samples"><m:request><m:symbol>IBM</m:symbol></m:request></m:getQuote></soapenv:Body></soapenv:Envelope>"#;

const QUOTE_REPLY: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:getQuoteResponse xmlns:m="http://services.samples"><m:return><m:last>42.5</m:last></m:return></m:getQuoteResponse></soapenv:Body></soapenv:Envelope>"#;

/// The service element of an Axis2 `?wsdl` answer, with both SOAP ports on `base`.
fn definitions(base: &str) -> String {
    format!(
        r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:ns="http://services.samples" targetNamespace="http://services.samples">
    <wsdl:service name="Quotes">
        <wsdl:port name="QuotesHttpSoap11Endpoint" binding="ns:QuotesSoap11Binding">
            <soap:address location="{base}/services/Quotes.QuotesHttpSoap11Endpoint"/>
        </wsdl:port>
        <wsdl:port name="QuotesHttpSoap12Endpoint" binding="ns:QuotesSoap12Binding">
            <soap12:address location="{base}/services/Quotes.QuotesHttpSoap12Endpoint"/>
        </wsdl:port>
    </wsdl:service>
</wsdl:definitions>"#
    )
}

fn proxy(name: &str, wsdl: &str) -> String {
    format!(
        r#"<proxy xmlns="http://ws.apache.org/ns/synapse" name="{name}" transports="http https">
    <target>
        <inSequence><send><endpoint>{wsdl}</endpoint></send></inSequence>
        <outSequence><send/></outSequence>
        <faultSequence>
            <payloadFactory media-type="xml">
                <format><failed xmlns=""><code>$1</code><message>$2</message></failed></format>
                <args>
                    <arg expression="get-property('ERROR_CODE')"/>
                    <arg expression="get-property('ERROR_MESSAGE')"/>
                </args>
            </payloadFactory>
            <respond/>
        </faultSequence>
    </target>
</proxy>"#
    )
}

#[test]
fn wsdl_endpoint_sends_to_the_port_address_in_its_soap_version() {
    let quotes = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml; charset=UTF-8".into())],
        body: QUOTE_REPLY.into(),
    });
    let wsdl_server = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: definitions(&quotes.url()),
    });
    let wsdl_uri = format!("{}/services/Quotes?wsdl", wsdl_server.url());
    let missing = closed_port();
    let home = home_with(&[
        (
            "proxy-services/Soap11Proxy.xml",
            proxy(
                "Soap11Proxy",
                &format!(
                    r#"<wsdl uri="{wsdl_uri}" service="Quotes" port="QuotesHttpSoap11Endpoint"/>"#
                ),
            ),
        ),
        (
            "proxy-services/Soap12Proxy.xml",
            proxy(
                "Soap12Proxy",
                &format!(
                    r#"<wsdl uri="{wsdl_uri}" service="Quotes" port="QuotesHttpSoap12Endpoint"/>"#
                ),
            ),
        ),
        (
            "proxy-services/InlineProxy.xml",
            proxy(
                "InlineProxy",
                &format!(
                    r#"<wsdl service="Quotes" port="QuotesHttpSoap11Endpoint">{}</wsdl>"#,
                    definitions(&quotes.url())
                ),
            ),
        ),
        (
            "proxy-services/NoPortProxy.xml",
            proxy(
                "NoPortProxy",
                &format!(r#"<wsdl uri="{wsdl_uri}" service="Quotes" port="Nope"/>"#),
            ),
        ),
        (
            "proxy-services/UnreachableProxy.xml",
            proxy(
                "UnreachableProxy",
                &format!(
                    r#"<wsdl uri="http://127.0.0.1:{missing}/services/Quotes?wsdl" service="Quotes" port="QuotesHttpSoap11Endpoint"/>"#
                ),
            ),
        ),
    ]);
    let server = start(&home);
    let port = server.port(HTTP);
    let soap = |path: &str| {
        request(
            "POST",
            port,
            path,
            &[
                ("Content-Type", "text/xml; charset=UTF-8"),
                ("SOAPAction", "\"urn:getQuote\""),
            ],
            QUOTE_REQUEST.as_bytes(),
        )
    };

    // SOAP 1.1 port: fetched once, then every message goes to its soap:address.
    for _ in 0..2 {
        let r = soap("/services/Soap11Proxy");
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("<m:last>42.5</m:last>"), "{}", r.text());
    }
    let fetched = wsdl_server.requests();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert_eq!(fetched[0].method, "GET");
    assert_eq!(fetched[0].path_and_query, "/services/Quotes?wsdl");
    let sent = quotes.requests();
    assert_eq!(sent.len(), 2);
    for s in &sent {
        assert_eq!(s.method, "POST");
        assert_eq!(
            s.path_and_query,
            "/services/Quotes.QuotesHttpSoap11Endpoint"
        );
        assert!(
            s.header("Content-Type")
                .is_some_and(|ct| ct.starts_with("text/xml")),
            "{s:?}"
        );
    }

    // SOAP 1.2 port: the SOAP 1.1 request goes out as SOAP 1.2.
    let r = soap("/services/Soap12Proxy");
    assert_eq!(r.status, 200, "{}", r.text());
    let sent = &quotes.requests()[2];
    assert_eq!(
        sent.path_and_query,
        "/services/Quotes.QuotesHttpSoap12Endpoint"
    );
    assert!(
        sent.header("Content-Type")
            .is_some_and(|ct| ct.starts_with("application/soap+xml")),
        "{sent:?}"
    );
    assert_eq!(wsdl_server.requests().len(), 2);

    // Inline definitions: no fetch.
    let r = soap("/services/InlineProxy");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        quotes.requests()[3].path_and_query,
        "/services/Quotes.QuotesHttpSoap11Endpoint"
    );
    assert_eq!(wsdl_server.requests().len(), 2);

    // A port the WSDL does not have, and a WSDL that cannot be fetched: send faults.
    let r = soap("/services/NoPortProxy");
    let body = r.text();
    assert!(
        body.contains("<code>101503</code>")
            && body.contains("Could not read the WSDL endpoint")
            && body.contains("Nope"),
        "{body}"
    );
    let r = soap("/services/UnreachableProxy");
    let body = r.text();
    assert!(
        body.contains("<code>101503</code>") && body.contains("Could not read the WSDL endpoint"),
        "{body}"
    );
    assert_eq!(quotes.requests().len(), 4);
}
