// A node-soap client built from the broker's WSDL: calls ping signed with xml-crypto (via node-soap's
// WSSecurityCert: exc-c14n, rsa-sha256, SHA-256, one reference each for the Body, the Timestamp and
// every wsa header, KeyInfo a direct reference to the BinarySecurityToken), then verifies the broker's
// signed answer with xml-crypto and checks the signer's certificate against the demo CA.
//
// usage: node client.js WSDL_URL KEY_PEM CERT_PEM FROM_OIN BROKER_OIN ISSUING_CA_PEM ROOT_CA_PEM
// prints one JSON line: {echo, signed: [local names of the signed elements], signer, versions}
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const soap = require("soap");
const { SignedXml } = require("xml-crypto");
const { DOMParser } = require("@xmldom/xmldom");
const xpath = require("xpath");

const [wsdl, keyFile, certFile, fromOin, brokerOin, issuingFile, rootFile] = process.argv.slice(2);
const WSA = "http://www.w3.org/2005/08/addressing";
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";

async function main() {
  const client = await soap.createClientAsync(wsdl, { forceSoap12Headers: false });
  const endpoint = wsdl.replace(/\?wsdl$/, "");
  const dienst = endpoint.match(/\/vva\/([a-z]+)\/v1$/)[1];
  const action = `urn:nl:vva:aanmelden:v1/${dienst}/ping`;
  const messageId = `urn:uuid:${crypto.randomUUID()}`;
  client.addSoapHeader(`<wsa:Action xmlns:wsa="${WSA}">${action}</wsa:Action>`);
  client.addSoapHeader(`<wsa:MessageID xmlns:wsa="${WSA}">${messageId}</wsa:MessageID>`);
  client.addSoapHeader(`<wsa:To xmlns:wsa="${WSA}">${endpoint}?oin=${brokerOin}</wsa:To>`);
  client.addSoapHeader(
    `<wsa:From xmlns:wsa="${WSA}"><wsa:Address>${WSA}/anonymous?oin=${fromOin}</wsa:Address></wsa:From>`,
  );
  const security = new soap.WSSecurityCert(fs.readFileSync(keyFile), fs.readFileSync(certFile), "", {
    hasTimeStamp: true,
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
    // node-soap's default adds the enveloped-signature transform, which WS-Security forbids (H17).
    signatureTransformations: [EXC_C14N],
    additionalReferences: ["wsa:Action", "wsa:MessageID", "wsa:To", "wsa:From"],
    signerOptions: { idMode: "wssecurity", prefix: "ds" },
  });
  security.signer.canonicalizationAlgorithm = EXC_C14N;
  client.setSecurity(security);
  const [resultaat, antwoord] = await client.pingAsync({ echo: "node-soap" });

  const doc = new DOMParser().parseFromString(antwoord, "text/xml");
  const select = xpath.useNamespaces({
    ds: "http://www.w3.org/2000/09/xmldsig#",
    wsse: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    wsa: WSA,
  });
  const bst = select("//wsse:Security/wsse:BinarySecurityToken/text()", doc)[0].data.replace(/\s+/g, "");
  const pem = `-----BEGIN CERTIFICATE-----\n${bst.match(/.{1,64}/g).join("\n")}\n-----END CERTIFICATE-----\n`;
  const handtekening = select("//wsse:Security/ds:Signature", doc);
  if (handtekening.length !== 1) throw new Error("expected one ds:Signature in the answer");
  const verifier = new SignedXml({ publicCert: pem });
  verifier.loadSignature(handtekening[0]);
  if (!verifier.checkSignature(antwoord)) throw new Error("xml-crypto: the answer's signature is not valid");
  if (select("//wsa:RelatesTo/text()", doc)[0].data.trim() !== messageId) {
    throw new Error("wsa:RelatesTo is not our MessageID");
  }
  const signed = verifier.getSignedReferences().map((xml) => new DOMParser().parseFromString(xml, "text/xml").documentElement.localName);
  // The signer: issued by the demo issuing CA, which the demo root issued; its OIN is the broker's.
  const signer = new crypto.X509Certificate(pem);
  const issuing = new crypto.X509Certificate(fs.readFileSync(issuingFile));
  const root = new crypto.X509Certificate(fs.readFileSync(rootFile));
  if (!signer.verify(issuing.publicKey) || !issuing.verify(root.publicKey)) {
    throw new Error("the answer's certificate does not chain to the demo CA");
  }
  const versie = (naam) => require(`${naam}/package.json`).version;
  console.log(
    JSON.stringify({
      echo: resultaat.echo,
      signed: signed.sort(),
      signer: signer.subject,
      versions: { node: process.versions.node, soap: versie("soap"), "xml-crypto": versie("xml-crypto") },
    }),
  );
}

main().catch((fout) => {
  console.error(`FAILED: ${fout.message}${fout.body ? `\n${fout.body}` : ""}`);
  process.exit(1);
});
