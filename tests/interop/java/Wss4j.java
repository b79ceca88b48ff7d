// Apache WSS4J 1.6 (Debian libwss4j-java, the WS-Security engine of CXF 2.7) verifies a message the
// broker signed:
//
//   java -cp wss4j.jar:xmlsec.jar:commons-logging.jar:slf4j-api.jar:slf4j-nop.jar Wss4j.java \
//       MESSAGE.xml ISSUING.pem ROOT.pem ISSUING.crl.pem ROOT.crl.pem
//
// WSSecurityEngine.processSecurityHeader with a Merlin crypto whose trust store holds the demo root and
// issuing CA and whose CRL store holds both CRLs (revocation on): the signature is checked with the key
// of the BinarySecurityToken, whose chain must lead to the root and whose subject must hold an OIN;
// the Timestamp strictly (300 s); BSP compliance on. Then, as CXF's CryptoCoverageChecker would, the Body and the Timestamp must be among
// the signed elements. Prints "signed=<local names, sorted>" and "signer=<subject>", exit 0; or the
// WSS4J error on stderr, exit 1.
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSDataRef;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.WSSecurityEngine;
import org.apache.ws.security.WSSecurityEngineResult;
import org.apache.ws.security.WSSecurityException;
import org.apache.ws.security.components.crypto.Merlin;
import org.apache.ws.security.handler.RequestData;
import org.apache.ws.security.util.WSSecurityUtil;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

public class Wss4j {
    public static void main(String[] args) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = dbf.newDocumentBuilder().parse(new File(args[0]));

        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("demo-issuing", cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(new File(args[1]).toPath()))));
        trust.setCertificateEntry("demo-root", cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(new File(args[2]).toPath()))));
        List<X509CRL> crls = new ArrayList<>();
        for (int i = 3; i < args.length; i++)
            crls.add((X509CRL) cf.generateCRL(new ByteArrayInputStream(Files.readAllBytes(new File(args[i]).toPath()))));
        Merlin crypto = new Merlin();
        crypto.setTrustStore(trust);
        crypto.setCRLCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(crls)));

        WSSConfig config = WSSConfig.getNewInstance();
        config.setTimeStampStrict(true);
        config.setTimeStampTTL(300);
        config.setTimeStampFutureTTL(60);
        config.setWsiBSPCompliant(true);
        RequestData data = new RequestData();
        data.setWssConfig(config);
        data.setSigCrypto(crypto);
        data.setEnableRevocation(true);
        // The signer's subject must carry a 20-character serialNumber (an OIN), as CXF set-ups for
        // Digikoppeling constrain it (sigSubjectCertConstraints); DER: PrintableString of length 20.
        data.setSubjectCertConstraints(List.of(Pattern.compile(".*2\\.5\\.4\\.5=#1314[0-9a-fA-F]{40}.*")));
        WSSecurityEngine engine = new WSSecurityEngine();
        engine.setWssConfig(config);

        Element security = WSSecurityUtil.getSecurityHeader(doc, null);
        if (security == null) {
            System.err.println("no wsse:Security header");
            System.exit(1);
        }
        List<WSSecurityEngineResult> results;
        try {
            results = engine.processSecurityHeader(security, data);
        } catch (WSSecurityException e) {
            System.err.println("WSS4J: " + e.getMessage());
            System.exit(1);
            return;
        }
        TreeSet<String> signed = new TreeSet<>();
        X509Certificate signer = null;
        boolean timestamp = false;
        for (WSSecurityEngineResult r : results) {
            int action = (Integer) r.get(WSSecurityEngineResult.TAG_ACTION);
            if (action == WSConstants.TS) timestamp = true;
            if (action != WSConstants.SIGN) continue;
            signer = (X509Certificate) r.get(WSSecurityEngineResult.TAG_X509_CERTIFICATE);
            @SuppressWarnings("unchecked")
            List<WSDataRef> refs = (List<WSDataRef>) r.get(WSSecurityEngineResult.TAG_DATA_REF_URIS);
            for (WSDataRef ref : refs) signed.add(ref.getName().getLocalPart());
        }
        if (signer == null || !timestamp || !signed.contains("Body") || !signed.contains("Timestamp")) {
            System.err.println("coverage: signer " + signer + ", timestamp " + timestamp + ", signed " + signed);
            System.exit(1);
        }
        System.out.println("signed=" + String.join(",", signed));
        System.out.println("signer=" + signer.getSubjectX500Principal().getName());
    }
}
