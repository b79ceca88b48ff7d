// Apache Santuario (xml-security-java, Debian libxml-security-java) against the broker:
//
//   java -cp xmlsec.jar:slf4j-api.jar:slf4j-nop.jar Santuario.java verify ANSWER.xml ISSUING.pem ROOT.pem
//     verifies the broker's signed answer with secure validation on; the signer's certificate (the
//     BinarySecurityToken the KeyInfo refers to) must chain to ROOT via ISSUING. Prints the local names
//     of the signed elements and the signer's subject.
//   java ... Santuario.java sign REQUEST.xml KEY.pk8.der CERT.pem OUT.xml
//     signs an unsigned SOAP 1.1 request the Edukoppeling way (2W-be-S): a wsu:Timestamp, the
//     certificate as BinarySecurityToken, exc-c14n + rsa-sha256 with one SHA-256 reference each for
//     the Body, the Timestamp and every wsa header, KeyInfo a direct SecurityTokenReference.
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.apache.xml.security.Init;
import org.apache.xml.security.c14n.Canonicalizer;
import org.apache.xml.security.signature.Reference;
import org.apache.xml.security.signature.SignedInfo;
import org.apache.xml.security.signature.XMLSignature;
import org.apache.xml.security.transforms.Transforms;
import org.apache.xml.security.utils.Constants;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

public class Santuario {
    static final String SOAP = "http://schemas.xmlsoap.org/soap/envelope/";
    static final String WSA = "http://www.w3.org/2005/08/addressing";
    static final String WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    static final String WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    static final String X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
    static final String BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
    static final String SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";

    public static void main(String[] args) throws Exception {
        Init.init();
        if (args[0].equals("verify")) {
            verify(new File(args[1]), new File(args[2]), new File(args[3]));
        } else if (args[0].equals("sign")) {
            sign(new File(args[1]), new File(args[2]), new File(args[3]), new File(args[4]));
        } else {
            throw new IllegalArgumentException("verify | sign");
        }
    }

    static Document parse(File file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        return factory.newDocumentBuilder().parse(file);
    }

    /** Every element with a wsu:Id becomes an ID for the reference resolver; duplicates are refused. */
    static void registerIds(Document doc) {
        NodeList all = doc.getElementsByTagNameNS("*", "*");
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < all.getLength(); i++) {
            Element element = (Element) all.item(i);
            if (element.hasAttributeNS(WSU, "Id")) {
                if (!seen.add(element.getAttributeNS(WSU, "Id"))) {
                    throw new IllegalStateException("duplicate wsu:Id");
                }
                element.setIdAttributeNS(WSU, "Id", true);
            }
        }
    }

    static X509Certificate certificate(byte[] bytes) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(bytes));
    }

    static void verify(File answer, File issuingPem, File rootPem) throws Exception {
        Document doc = parse(answer);
        registerIds(doc);
        Element security = (Element) doc.getElementsByTagNameNS(WSSE, "Security").item(0);
        Element signatureElement = (Element) security.getElementsByTagNameNS(Constants.SignatureSpecNS, "Signature").item(0);
        XMLSignature signature = new XMLSignature(signatureElement, "", true); // secure validation on
        Element reference = (Element) signatureElement.getElementsByTagNameNS(WSSE, "Reference").item(0);
        Element bst = doc.getElementById(reference.getAttribute("URI").substring(1));
        if (bst == null || !bst.getLocalName().equals("BinarySecurityToken") || !X509V3.equals(bst.getAttribute("ValueType"))) {
            throw new IllegalStateException("KeyInfo does not refer to an X.509 BinarySecurityToken");
        }
        X509Certificate signer = certificate(Base64.getMimeDecoder().decode(bst.getTextContent()));
        X509Certificate issuing = certificate(Files.readAllBytes(issuingPem.toPath()));
        X509Certificate root = certificate(Files.readAllBytes(rootPem.toPath()));
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false); // revocation is the broker's trust store's job, tested elsewhere
        CertPathValidator.getInstance("PKIX").validate(
            CertificateFactory.getInstance("X.509").generateCertPath(List.of(signer, issuing)), parameters);
        boolean valid = signature.checkSignatureValue(signer);
        SignedInfo signedInfo = signature.getSignedInfo();
        if (!valid) {
            List<String> failed = new ArrayList<>();
            for (int i = 0; i < signedInfo.getLength(); i++) {
                if (!signedInfo.getVerificationResult(i)) {
                    failed.add(doc.getElementById(signedInfo.item(i).getURI().substring(1)).getLocalName());
                }
            }
            throw new IllegalStateException("Santuario: the signature is not valid; digest mismatch: " + failed);
        }
        List<String> signed = new ArrayList<>();
        for (int i = 0; i < signedInfo.getLength(); i++) {
            Reference ref = signedInfo.item(i);
            signed.add(doc.getElementById(ref.getURI().substring(1)).getLocalName());
        }
        signed.sort(null);
        System.out.println("signed=" + String.join(",", signed));
        System.out.println("signer=" + signer.getSubjectX500Principal().getName());
    }

    static void sign(File request, File keyDer, File certPem, File out) throws Exception {
        Document doc = parse(request);
        Element envelope = doc.getDocumentElement();
        Element header = (Element) envelope.getElementsByTagNameNS(SOAP, "Header").item(0);
        Element body = (Element) envelope.getElementsByTagNameNS(SOAP, "Body").item(0);
        X509Certificate certificate = certificate(Files.readAllBytes(certPem.toPath()));
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(keyDer.toPath())));

        Element security = doc.createElementNS(WSSE, "wsse:Security");
        security.setAttributeNS(XMLConstants.XMLNS_ATTRIBUTE_NS_URI, "xmlns:wsu", WSU);
        header.insertBefore(security, header.getFirstChild());
        Element timestamp = doc.createElementNS(WSU, "wsu:Timestamp");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Element created = doc.createElementNS(WSU, "wsu:Created");
        created.setTextContent(now.toString());
        Element expires = doc.createElementNS(WSU, "wsu:Expires");
        expires.setTextContent(now.plusSeconds(300).toString());
        timestamp.appendChild(created);
        timestamp.appendChild(expires);
        security.appendChild(timestamp);
        Element bst = doc.createElementNS(WSSE, "wsse:BinarySecurityToken");
        bst.setAttribute("ValueType", X509V3);
        bst.setAttribute("EncodingType", BASE64);
        bst.setTextContent(Base64.getEncoder().encodeToString(certificate.getEncoded()));
        security.appendChild(bst);
        String bstId = setId(bst);

        XMLSignature signature = new XMLSignature(doc, "", XMLSignature.ALGO_ID_SIGNATURE_RSA_SHA256, Canonicalizer.ALGO_ID_C14N_EXCL_OMIT_COMMENTS);
        security.appendChild(signature.getElement());
        List<Element> signed = new ArrayList<>(List.of(body, timestamp));
        for (Node child = header.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof Element && WSA.equals(child.getNamespaceURI())) {
                signed.add((Element) child);
            }
        }
        for (Element element : signed) {
            Transforms transforms = new Transforms(doc);
            transforms.addTransform(Transforms.TRANSFORM_C14N_EXCL_OMIT_COMMENTS);
            signature.addDocument("#" + setId(element), transforms, SHA256);
        }
        Element str = doc.createElementNS(WSSE, "wsse:SecurityTokenReference");
        Element ref = doc.createElementNS(WSSE, "wsse:Reference");
        ref.setAttribute("URI", "#" + bstId);
        ref.setAttribute("ValueType", X509V3);
        str.appendChild(ref);
        signature.getKeyInfo().addUnknownElement(str);
        signature.sign(key);
        try (FileOutputStream stream = new FileOutputStream(out)) {
            TransformerFactory.newInstance().newTransformer().transform(new DOMSource(doc), new StreamResult(stream));
        }
    }

    static String setId(Element element) {
        String id = element.getAttributeNS(WSU, "Id");
        if (id.isEmpty()) {
            id = "id-" + UUID.randomUUID();
            // Declared on the element itself: Santuario canonicalises the DOM's namespace attributes,
            // and a prefix left for the serialiser to declare would be missing from the digest.
            element.setAttributeNS(XMLConstants.XMLNS_ATTRIBUTE_NS_URI, "xmlns:wsu", WSU);
            element.setAttributeNS(WSU, "wsu:Id", id);
        }
        element.setIdAttributeNS(WSU, "Id", true);
        return id;
    }
}
