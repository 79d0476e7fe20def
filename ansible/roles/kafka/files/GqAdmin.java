import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.acl.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.resource.*;

/*
 * gradeq's objects on a Kafka cluster, made if missing (nothing existing is changed unless
 * asked): topics, SCRAM users, ACLs.
 *
 *   java -cp 'LIBS/*' GqAdmin.java CLIENT.PROPERTIES TIMEOUT_S RF MIN_ISR ACL_RULES USERS_FILE
 *        SET_PASSWORDS(0|1) TOPIC:PARTITIONS...
 *
 * CLIENT.PROPERTIES: bootstrap.servers and the admin's SASL settings. ACL_RULES: one
 * "User:NAME topic|group|cluster RESOURCE OPERATION" a line (allow, literal). USERS_FILE:
 * "NAME PASSWORD" a line: SCRAM-SHA-512 users, created when missing, all set when
 * SET_PASSWORDS is 1. Prints one "changed: ..." line per thing it did and one "ok: ..." line
 * per topic found (its replication and min.insync.replicas); exits non-zero if the cluster
 * does not answer in time.
 */
public class GqAdmin {
    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        try (FileInputStream in = new FileInputStream(a[0])) {
            p.load(in);
        }
        long deadline = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000L;
        short rf = Short.parseShort(a[2]);
        String minIsr = a[3];
        List<String> rules = Files.readAllLines(Path.of(a[4]));
        List<String> users = Files.readAllLines(Path.of(a[5]));
        boolean setPasswords = a[6].equals("1");
        Map<String, Integer> want = new LinkedHashMap<>();
        for (int i = 7; i < a.length; i++) {
            String[] tp = a[i].split(":");
            want.put(tp[0], Integer.parseInt(tp[1]));
        }
        Exception last = null;
        try (Admin ad = Admin.create(p)) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    topics(ad, want, rf, minIsr);
                    scram(ad, users, setPasswords);
                    acls(ad, rules);
                    return;
                } catch (Exception e) {
                    last = e;
                    Thread.sleep(2000);
                }
            }
        }
        System.err.println("GqAdmin: the cluster did not answer in time: " + last);
        System.exit(1);
    }

    static void topics(Admin ad, Map<String, Integer> want, short rf, String minIsr) throws Exception {
        Set<String> have = ad.listTopics().names().get(10, TimeUnit.SECONDS);
        List<NewTopic> nt = new ArrayList<>();
        for (Map.Entry<String, Integer> e : want.entrySet())
            if (!have.contains(e.getKey()))
                nt.add(new NewTopic(e.getKey(), e.getValue(), rf).configs(Map.of("min.insync.replicas", minIsr)));
        if (!nt.isEmpty()) {
            ad.createTopics(nt).all().get(30, TimeUnit.SECONDS);
            for (NewTopic t : nt)
                System.out.println("changed: topic " + t.name() + " created");
        }
        while (true) {
            Map<String, TopicDescription> d = ad.describeTopics(want.keySet()).allTopicNames().get(10, TimeUnit.SECONDS);
            boolean leaders = true;
            for (TopicDescription td : d.values())
                for (var pi : td.partitions())
                    if (pi.leader() == null)
                        leaders = false;
            if (leaders) {
                for (TopicDescription td : d.values()) {
                    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, td.name());
                    Config c = ad.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r);
                    System.out.println("ok: topic " + td.name() + " partitions=" + td.partitions().size()
                                       + " rf=" + td.partitions().get(0).replicas().size()
                                       + " min.insync.replicas=" + c.get("min.insync.replicas").value());
                }
                return;
            }
            Thread.sleep(1000);
        }
    }

    static void scram(Admin ad, List<String> users, boolean setPasswords) throws Exception {
        Set<String> have = new HashSet<>(ad.describeUserScramCredentials().users().get(10, TimeUnit.SECONDS));
        List<UserScramCredentialAlteration> alt = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String line : users) {
            String[] f = line.trim().split("\\s+", 2);
            if (f.length < 2 || (have.contains(f[0]) && !setPasswords))
                continue;
            alt.add(new UserScramCredentialUpsertion(f[0], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), f[1]));
            names.add(f[0]);
        }
        if (!alt.isEmpty()) {
            ad.alterUserScramCredentials(alt).all().get(30, TimeUnit.SECONDS);
            System.out.println("changed: SCRAM-SHA-512 password of " + String.join(", ", names));
        }
    }

    static void acls(Admin ad, List<String> rules) throws Exception {
        Set<AclBinding> have = new HashSet<>(ad.describeAcls(AclBindingFilter.ANY).values().get(10, TimeUnit.SECONDS));
        List<AclBinding> add = new ArrayList<>();
        for (String line : rules) {
            String t = line.trim();
            if (t.isEmpty() || t.startsWith("#"))
                continue;
            String[] f = t.split("\\s+");
            ResourceType rt = ResourceType.fromString(f[1].toUpperCase(Locale.ROOT));
            String name = rt == ResourceType.CLUSTER ? "kafka-cluster" : f[2];
            AclBinding b = new AclBinding(new ResourcePattern(rt, name, PatternType.LITERAL),
                    new AccessControlEntry(f[0], "*", AclOperation.fromString(f[3].toUpperCase(Locale.ROOT)), AclPermissionType.ALLOW));
            if (!have.contains(b))
                add.add(b);
        }
        if (!add.isEmpty()) {
            ad.createAcls(add).all().get(30, TimeUnit.SECONDS);
            for (AclBinding b : add)
                System.out.println("changed: acl " + b);
        }
    }
}
