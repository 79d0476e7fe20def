import java.io.FileInputStream;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.config.ConfigResource;

/*
 * Creates gradeq's topics on the cluster if they are missing (never changes an existing one):
 *   java -cp 'LIBS/*' GqTopics.java CLIENT.PROPERTIES TIMEOUT_S RF MIN_ISR TOPIC:PARTITIONS...
 * Prints "created TOPIC" for each topic it made, "exists TOPIC rf=N min.insync.replicas=M"
 * for the others, and exits non-zero if the cluster does not answer in time or a topic has a
 * partition without a leader. CLIENT.PROPERTIES: bootstrap.servers and, with SASL, the
 * admin credentials.
 */
public class GqTopics {
    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        try (FileInputStream in = new FileInputStream(a[0])) {
            p.load(in);
        }
        long deadline = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000L;
        short rf = Short.parseShort(a[2]);
        String minIsr = a[3];
        Map<String, Integer> want = new LinkedHashMap<>();
        for (int i = 4; i < a.length; i++) {
            String[] tp = a[i].split(":");
            want.put(tp[0], Integer.parseInt(tp[1]));
        }
        Exception last = null;
        try (Admin ad = Admin.create(p)) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    Set<String> have = ad.listTopics().names().get(10, TimeUnit.SECONDS);
                    List<NewTopic> nt = new ArrayList<>();
                    for (Map.Entry<String, Integer> e : want.entrySet())
                        if (!have.contains(e.getKey()))
                            nt.add(new NewTopic(e.getKey(), e.getValue(), rf)
                                           .configs(Map.of("min.insync.replicas", minIsr)));
                    if (!nt.isEmpty()) {
                        ad.createTopics(nt).all().get(30, TimeUnit.SECONDS);
                        for (NewTopic t : nt)
                            System.out.println("created " + t.name());
                    }
                    Map<String, TopicDescription> d =
                            ad.describeTopics(want.keySet()).allTopicNames().get(10, TimeUnit.SECONDS);
                    boolean leaders = true;
                    for (TopicDescription td : d.values())
                        for (var pi : td.partitions())
                            if (pi.leader() == null)
                                leaders = false;
                    if (!leaders) {
                        Thread.sleep(1000);
                        continue;
                    }
                    for (TopicDescription td : d.values()) {
                        if (nt.stream().anyMatch(t -> t.name().equals(td.name())))
                            continue;
                        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, td.name());
                        Config c = ad.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r);
                        System.out.println("exists " + td.name() + " rf=" + td.partitions().get(0).replicas().size()
                                           + " min.insync.replicas=" + c.get("min.insync.replicas").value());
                    }
                    return;
                } catch (Exception e) {
                    last = e;
                    Thread.sleep(2000);
                }
            }
        }
        System.err.println("GqTopics: the cluster did not answer in time: " + last);
        System.exit(1);
    }
}
